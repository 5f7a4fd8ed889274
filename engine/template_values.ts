/**
 * Values as a template sees them: own data members only, and every conversion to text or JSON
 * measured before it allocates, so a value built from shared references (`[a, a]` nested thirty
 * times) can never expand into gigabytes.
 *
 * @module
 */

import nunjucks from "nunjucks";
import { MAX_TEMPLATE_LIST_ITEMS, MAX_TEMPLATE_OUTPUT, MAX_TEMPLATE_VALUE_SIZE } from "./limits.ts";
import { type RenderBudget, TemplateLimitError } from "./template_budget.ts";
import { pythonText } from "./template_python.ts";

/** nunjucks' marker for text that must not be escaped again. */
export const SafeString = (nunjucks.runtime as unknown as {
  SafeString: new (value: string) => { val: string; length: number };
}).SafeString;

/** Member names never resolved, even when own properties (defence in depth). */
const BLOCKED_MEMBERS = new Set(["constructor", "__proto__", "prototype"]);

/** Tells whether `name` may never be looked up (`constructor`, `__proto__`, `prototype`). */
export function isBlockedMember(name: string): boolean {
  return BLOCKED_MEMBERS.has(name);
}

/** A canonical integer index written as text (`"0"`, `"12"`, not `"01"`). */
function isIndexText(key: string): boolean {
  return /^(0|[1-9][0-9]*)$/.test(key);
}

/**
 * A member as Jinja2 looks it up in JSON data (`foo.bar` and `foo['bar']` alike): a list or a
 * string by an integer index (negative counts from the end), a dict by its own text keys (an
 * integer key finds nothing, as `dict[0]` in Python), other own data members of objects the
 * template built (`group.grouper`). Never a function, never `constructor` and the like; a list's
 * `length` is no member (Jinja has `|length`).
 */
export function lookupMember(value: unknown, key: unknown): unknown {
  if (value === null || value === undefined || typeof value === "function") return undefined;
  if (typeof key === "number" || typeof key === "boolean") {
    const index = Number(key);
    const text = plainText(value);
    const items = Array.isArray(value) ? value : text;
    if (items === undefined || !Number.isInteger(index)) return undefined;
    const at = index < 0 ? items.length + index : index;
    return at >= 0 && at < items.length ? items[at] : undefined;
  }
  const name = String(key);
  if (BLOCKED_MEMBERS.has(name)) return undefined;
  if (typeof value !== "object") return undefined;
  if (Array.isArray(value) && (isIndexText(name) || name === "length")) return undefined;
  if (!Object.hasOwn(value, name)) return undefined;
  const member = (value as Record<string, unknown>)[name];
  return typeof member === "function" ? undefined : member;
}

/**
 * Follows a dotted path (`Tag.name`, `Attribute.0.value`) as Jinja's `attribute=` does: parts
 * made of digits are integer indexes.
 */
export function lookupPath(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split(".")) {
    current = lookupMember(current, /^[0-9]+$/.test(part) ? Number(part) : part);
  }
  return current;
}

/**
 * Python's truth, as Jinja2 tests a condition: empty lists, dicts and strings, 0, None and
 * undefined are false; anything else (a namespace, a macro) is true.
 */
export function pythonTruth(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof SafeString) return value.length > 0;
  if (
    value !== null && typeof value === "object" &&
    [Object.prototype, null].includes(Object.getPrototypeOf(value))
  ) {
    return Object.keys(value).length > 0;
  }
  return Boolean(value);
}

/** The text of a string or SafeString, else undefined. */
export function plainText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value instanceof SafeString) return value.val;
  return undefined;
}

/** Rough serialised size of a primitive (or an opaque object such as a macro). */
function leafWeight(value: unknown): number {
  if (typeof value === "string") return value.length + 2;
  if (value instanceof SafeString) return value.length + 2;
  if (typeof value === "number") return String(value).length;
  return 5;
}

function isContainer(value: unknown): value is object {
  return value !== null && typeof value === "object" && !(value instanceof SafeString);
}

/**
 * About how many characters `value` serialises to (JSON or `toString`), counting shared
 * references every time they appear, as serialising does. Stops counting past `limit` and
 * returns Infinity then. Results are remembered in `budget.weights` for the render, so a literal
 * built from measured values costs one step per item.
 */
export function weightOf(value: unknown, budget: RenderBudget, limit: number): number {
  if (!isContainer(value)) return leafWeight(value);
  const known = budget.weights.get(value);
  if (known !== undefined) return known;
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (!isContainer(current)) {
      total += leafWeight(current);
    } else {
      const cached = current === value ? undefined : budget.weights.get(current);
      if (cached !== undefined) {
        total += cached;
      } else if (Array.isArray(current)) {
        total += 2 + current.length;
        for (const item of current) stack.push(item);
      } else {
        total += 16;
        for (const [key, item] of Object.entries(current)) {
          total += key.length + 4;
          stack.push(item);
        }
      }
    }
    if (total > limit) {
      budget.weights.set(value, Infinity);
      return Infinity;
    }
  }
  budget.weights.set(value, total);
  return total;
}

/**
 * Refuses a list or dict that `what` built when it would serialise to more than
 * `MAX_TEMPLATE_VALUE_SIZE` characters.
 */
export function ensureValueSize(what: string, value: unknown, budget: RenderBudget): void {
  if (weightOf(value, budget, MAX_TEMPLATE_VALUE_SIZE) > MAX_TEMPLATE_VALUE_SIZE) {
    throw new TemplateLimitError(
      `${what} would build a value of more than ${MAX_TEMPLATE_VALUE_SIZE} characters`,
    );
  }
}

/**
 * Length of `String(value)` as JavaScript computes it (arrays joined with commas, null and
 * undefined items as ''), without building it; stops past `limit`.
 */
export function measureText(value: unknown, limit: number): number {
  if (typeof value === "string") return value.length;
  if (value instanceof SafeString) return value.length;
  if (!Array.isArray(value)) return typeof value === "function" ? 0 : String(value).length;
  let total = Math.max(0, value.length - 1);
  for (const item of value) {
    if (total > limit) return total;
    if (item !== null && item !== undefined) total += measureText(item, limit - total);
  }
  return total;
}

/**
 * `String(value)` bounded: refuses with a message naming `what` when the text would be longer
 * than `limit`. Macros convert to '' rather than to their compiled source.
 */
export function textOf(value: unknown, limit: number, what: string): string {
  if (typeof value === "string") return value;
  if (value instanceof SafeString) return value.val;
  if (typeof value === "function") return "";
  if (Array.isArray(value)) {
    const length = measureText(value, limit);
    if (length > limit) {
      throw new TemplateLimitError(
        `${what} would build more than ${limit} characters from a list`,
      );
    }
  }
  return String(value);
}

/** Options of `boundedJson`. */
export interface BoundedJsonOptions {
  /** Most characters the JSON may have. */
  limit: number;
  /** Who asks, for the error (`Filter "tojson"`). */
  what: string;
  /** `JSON.stringify`'s indent (a count of spaces, or the indent text). */
  indent?: unknown;
}

/**
 * `JSON.stringify` that gives up as soon as the text would pass `limit` characters, indentation
 * included, instead of building it first. Returns undefined where `JSON.stringify` does.
 */
export function boundedJson(value: unknown, options: BoundedJsonOptions): string | undefined {
  const { limit, what } = options;
  const indent = typeof options.indent === "number" || typeof options.indent === "string"
    ? options.indent
    : undefined;
  const step = typeof indent === "number"
    ? Math.min(10, Math.max(0, Math.floor(indent)))
    : typeof indent === "string"
    ? Math.min(10, indent.length)
    : 0;
  const depths = new WeakMap<object, number>();
  let count = 0;
  const refuse = (): never => {
    throw new TemplateLimitError(`${what} would build more than ${limit} characters of JSON`);
  };
  const json = JSON.stringify(
    value,
    function (this: unknown, key: string, item: unknown): unknown {
      const holder = this !== null && typeof this === "object" ? this : undefined;
      const depth = holder ? depths.get(holder) ?? 0 : 0;
      if (item !== null && typeof item === "object") depths.set(item, depth + 1);
      count += (Array.isArray(holder) ? 1 : key.length + 3) + (step > 0 ? step * depth + 1 : 0);
      if (typeof item === "string") count += item.length + 2;
      else if (typeof item === "number") count += String(item).length;
      else if (typeof item === "boolean" || item === null) count += 5;
      else count += 2;
      if (count > limit) refuse();
      return item;
    },
    indent,
  );
  if (json !== undefined && json.length > limit) refuse();
  return json;
}

/**
 * How `{{ value }}` prints, as Jinja2 (Python's `str()`): '' for undefined and macros, `None`,
 * `True`, `False`, `['a', 1]` and `{'k': None}` for lists and dicts; refused past `limit`.
 */
export function stringify(value: unknown, limit: number): string {
  return pythonText(value, limit, "Printing a value");
}

/**
 * The template's `~`: both sides as Jinja2 prints them (`'a' ~ none` is `aNone`), refused when
 * the result would pass `MAX_TEMPLATE_OUTPUT`, so doubling a string in a loop stops at the cap.
 */
export function concatValues(left: unknown, right: unknown, what: string): string {
  const head = pythonText(left, MAX_TEMPLATE_OUTPUT, what);
  const tail = pythonText(right, MAX_TEMPLATE_OUTPUT, what);
  const length = head.length + tail.length;
  if (length > MAX_TEMPLATE_OUTPUT) {
    throw new TemplateLimitError(
      `${what} would build ${length} characters, more than the limit of ${MAX_TEMPLATE_OUTPUT}`,
    );
  }
  return head + tail;
}

/**
 * The template's `+`: two lists make one (as Python's `list + list`, counted and measured), a list
 * and anything else is Python's TypeError; other values add as JavaScript does, with text results
 * bounded as `concatValues`.
 */
export function addValues(
  left: unknown,
  right: unknown,
  what: string,
  budget: RenderBudget,
): unknown {
  if (Array.isArray(left) && Array.isArray(right)) {
    const length = left.length + right.length;
    if (length > MAX_TEMPLATE_LIST_ITEMS) {
      throw new TemplateLimitError(
        `${what} would build a list of ${length} items, more than the limit of ` +
          `${MAX_TEMPLATE_LIST_ITEMS}`,
      );
    }
    budget.addBuilt(what, length, { unit: "list items" });
    const joined = [...left, ...right];
    ensureValueSize(what, joined, budget);
    return joined;
  }
  if (Array.isArray(left) || Array.isArray(right)) {
    const [list, other] = Array.isArray(left) ? ["list", right] : [pythonTypeName(left), right];
    throw new TypeError(
      `can only concatenate ${list} (not "${pythonTypeName(other)}") to ${list} (as in Python)`,
    );
  }
  const head = toPrimitive(left, what);
  const tail = toPrimitive(right, what);
  if (typeof head === "string" || typeof tail === "string") {
    return concatValues(String(head), String(tail), what);
  }
  return (head as number) + (tail as number);
}

/** Python's type name of a value, for errors worded as Python's (`str`, `list`, `NoneType`). */
export function pythonTypeName(value: unknown): string {
  if (value === null || value === undefined) return "NoneType";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (plainText(value) !== undefined) return "str";
  if (Array.isArray(value)) return "list";
  return typeof value === "function" ? "Macro" : "dict";
}

function toPrimitive(value: unknown, what: string): unknown {
  const isObject = (value !== null && typeof value === "object") || typeof value === "function";
  return isObject ? textOf(value, MAX_TEMPLATE_OUTPUT, what) : value;
}
