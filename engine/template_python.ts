/**
 * Values shown as Jinja2 shows them, since MISP renders params with Jinja2 in Python
 * (misp-modules' `jinja_template_rendering`): `str()` for `{{ v }}`, `~`, `join` and `string`
 * (`None`, `True`, `['a', 1]`, `{'k': None}`), and `json.dumps` as Jinja's `tojson` calls it
 * (sorted keys, `", "` and `": "`, non-ASCII as `\uXXXX`, HTML-safe). Every conversion counts
 * what it writes and gives up past its limit, so a value built from shared references cannot
 * expand before it is refused.
 *
 * @module
 */

import nunjucks from "nunjucks";
import { TemplateLimitError } from "./template_budget.ts";
import { isNamespace } from "./template_namespace.ts";

/** nunjucks' marker for text that must not be escaped again. */
interface SafeText {
  val: string;
}

const SafeString = (nunjucks.runtime as unknown as { SafeString: new (value: string) => SafeText })
  .SafeString;

/** Lists the template marked as Python tuples (`dict.items()`, `dictsort`): shown `('a', 1)`. */
const tuples = new WeakSet<unknown[]>();

/** Marks `items` as a Python tuple, so it prints `(…)` instead of `[…]`. */
export function asTuple<T extends unknown[]>(items: T): T {
  tuples.add(items);
  return items;
}

function isSafeText(value: unknown): value is SafeText {
  return value instanceof SafeString;
}

/** A text writer that refuses, with `what` in the message, to pass `limit` characters. */
class BoundedText {
  readonly #parts: string[] = [];
  #length = 0;

  constructor(readonly limit: number, readonly what: string) {}

  write(text: string): void {
    this.#length += text.length;
    if (this.#length > this.limit) {
      throw new TemplateLimitError(
        `${this.what} would build more than ${this.limit} characters`,
      );
    }
    this.#parts.push(text);
  }

  toString(): string {
    return this.#parts.join("");
  }
}

/** Python's `repr(float)`: shortest digits, exponent form below 1e-4 and from 1e16. */
function floatRepr(value: number): string {
  // JSON data has no NaN or Infinity: only JavaScript arithmetic ('x' * 3) makes them.
  if (!Number.isFinite(value)) return String(value);
  const [mantissa, exponentText] = value.toExponential().split("e") as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return String(value);
}

/**
 * Python's `str()` of a number from JSON: integers as integers (JSON parsing cannot tell `2.0`
 * from `2`, so both print `2`), other numbers as Python's `repr(float)`.
 */
function numberText(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return String(value);
  if (Number.isInteger(value)) return BigInt(value).toString();
  return floatRepr(value);
}

/** Characters `repr` quotes differently or escapes (a space is printed as is). */
const PLAIN_REPR = /['"\\\p{C}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/u;

/** Python's `repr(str)`: single quotes unless the text has `'` and no `"`; escapes as Python. */
function stringRepr(text: string): string {
  if (!PLAIN_REPR.test(text)) return `'${text}'`;
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (char === quote || char === "\\") out += `\\${char}`;
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (char !== " " && /[\p{C}\p{Z}]/u.test(char)) {
      out += code < 0x100
        ? `\\x${code.toString(16).padStart(2, "0")}`
        : code < 0x10000
        ? `\\u${code.toString(16).padStart(4, "0")}`
        : `\\U${code.toString(16).padStart(8, "0")}`;
    } else out += char;
  }
  return out + quote;
}

/** Nesting a value may have to be shown; Python's own recursion limit is about as deep. */
const MAX_SHOWN_DEPTH = 1_000;

function ensureDepth(depth: number, out: BoundedText): void {
  if (depth > MAX_SHOWN_DEPTH) {
    throw new TemplateLimitError(
      `${out.what} would show a value nested more than ${MAX_SHOWN_DEPTH} levels deep`,
    );
  }
}

function writeRepr(value: unknown, out: BoundedText, depth = 0): void {
  ensureDepth(depth, out);
  if (value === undefined) out.write("Undefined");
  else if (value === null) out.write("None");
  else if (typeof value === "boolean") out.write(value ? "True" : "False");
  else if (typeof value === "number") out.write(numberText(value));
  else if (typeof value === "string") out.write(stringRepr(value));
  else if (typeof value === "function") out.write("<Macro>");
  else if (isSafeText(value)) out.write(`Markup(${stringRepr(value.val)})`);
  else if (isNamespace(value)) {
    out.write("<Namespace ");
    writeRepr({ ...(value as object) }, out, depth + 1);
    out.write(">");
  } else if (Array.isArray(value)) {
    const tuple = tuples.has(value);
    out.write(tuple ? "(" : "[");
    value.forEach((item, index) => {
      if (index > 0) out.write(", ");
      writeRepr(item, out, depth + 1);
    });
    out.write(tuple ? (value.length === 1 ? ",)" : ")") : "]");
  } else if (typeof value === "object") {
    out.write("{");
    Object.entries(value).forEach(([key, item], index) => {
      if (index > 0) out.write(", ");
      out.write(stringRepr(key));
      out.write(": ");
      writeRepr(item, out, depth + 1);
    });
    out.write("}");
  } else out.write(String(value));
}

/**
 * Python's `str(value)` as Jinja2 prints it: `''` for undefined and macros, `None`, `True` and
 * `False`, `['a', 1]` and `{'k': None}` for lists and dicts.
 *
 * @throws {TemplateLimitError} naming `what` when the text would pass `limit` characters
 */
export function pythonText(value: unknown, limit: number, what: string): string {
  if (value === undefined || typeof value === "function") return "";
  if (typeof value === "string") return value;
  if (isSafeText(value)) return value.val;
  if (
    value !== null && typeof value === "object" && !Array.isArray(value) && !isNamespace(value) &&
    Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null
  ) {
    return String(value);
  }
  const out = new BoundedText(limit, what);
  writeRepr(value, out);
  return out.toString();
}

/** Python's `repr(value)` (`'a'`, `None`, `['a']`), as `%r` formats it; refused past `limit`. */
export function pythonRepr(value: unknown, limit: number, what: string): string {
  const out = new BoundedText(limit, what);
  writeRepr(value, out);
  return out.toString();
}

/** JSON string with every non-ASCII unit as `\uXXXX`, as Python's `ensure_ascii`. */
function asciiJsonString(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** `json.dumps`' indent: undefined for the one-line layout, else the text of one level. */
type JsonIndent = string | undefined;

function writeJson(value: unknown, out: BoundedText, indent: JsonIndent, depth: number): void {
  ensureDepth(depth, out);
  if (value === null || value === undefined || typeof value === "function") out.write("null");
  else if (typeof value === "boolean") out.write(value ? "true" : "false");
  else if (typeof value === "number") {
    out.write(
      Number.isFinite(value)
        ? numberText(value)
        : Number.isNaN(value)
        ? "NaN"
        : value > 0
        ? "Infinity"
        : "-Infinity",
    );
  } else if (typeof value === "string") out.write(asciiJsonString(value));
  else if (isSafeText(value)) out.write(asciiJsonString(value.val));
  else if (typeof value !== "object") out.write(asciiJsonString(String(value)));
  else if (isNamespace(value)) {
    throw new TypeError("Object of type Namespace is not JSON serializable");
  } else {
    const array = Array.isArray(value);
    const entries: [string | undefined, unknown][] = array
      ? value.map((item) => [undefined, item])
      : Object.keys(value).sort().map((key) => [key, (value as Record<string, unknown>)[key]]);
    if (entries.length === 0) {
      out.write(array ? "[]" : "{}");
      return;
    }
    const open = indent === undefined ? "" : `\n${indent.repeat(depth + 1)}`;
    const separator = indent === undefined ? ", " : `,${open}`;
    out.write(array ? "[" : "{");
    out.write(open);
    entries.forEach(([key, item], index) => {
      if (index > 0) out.write(separator);
      if (key !== undefined) {
        out.write(asciiJsonString(key));
        out.write(": ");
      }
      writeJson(item, out, indent, depth + 1);
    });
    if (indent !== undefined) out.write(`\n${indent.repeat(depth)}`);
    out.write(array ? "]" : "}");
  }
}

/**
 * Jinja2's `tojson` (`htmlsafe_json_dumps` with `sort_keys=True`): Python's `json.dumps` layout,
 * non-ASCII escaped, then `<`, `>`, `&` and `'` as `\u003c`, `\u003e`, `\u0026`, `\u0027`.
 * `indent` is a count of spaces or the indent text, as `json.dumps`.
 *
 * @throws {TemplateLimitError} naming `what` when the JSON would pass `limit` characters
 */
export function jinjaJson(value: unknown, limit: number, what: string, indent?: unknown): string {
  const unit: JsonIndent = typeof indent === "number"
    ? " ".repeat(Math.min(10, Math.max(0, Math.floor(indent))))
    : typeof indent === "string"
    ? indent.slice(0, 10)
    : undefined;
  const out = new BoundedText(limit, what);
  writeJson(value, out, unit, 0);
  const json = out.toString();
  const safe = json.replaceAll("<", "\\u003c").replaceAll(">", "\\u003e")
    .replaceAll("&", "\\u0026").replaceAll("'", "\\u0027");
  if (safe.length > limit) {
    throw new TemplateLimitError(`${what} would build more than ${limit} characters`);
  }
  return safe;
}
