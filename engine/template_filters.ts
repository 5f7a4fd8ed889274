/**
 * The filters templates may use: nunjucks' builtins with every one that can grow its input
 * checked before it allocates (`center(400000000)` is refused, not attempted), the ones whose
 * regexes backtrack quadratically on crafted data (`striptags`, `trim`) rewritten to run in linear
 * time, Jinja2's behaviour where nunjucks differs (`join`, `string`, `int`, `escape` print and
 * escape as Python does), Jinja2's filters and tests nunjucks lacks (`tojson`, `format`, `groupby`,
 * `map`, `unique`, `min`, `max`; `none`, `true`, `boolean`, …), and the `range()` global. Every
 * filter call also checks the render's deadline and counts what it built.
 *
 * @module
 */

import nunjucks from "nunjucks";
import { RE2JS } from "re2js";
import { MAX_TEMPLATE_LIST_ITEMS, MAX_TEMPLATE_OUTPUT, MAX_TEMPLATE_VALUE_SIZE } from "./limits.ts";
import { currentBudget, type RenderBudget, TemplateLimitError } from "./template_budget.ts";
import { isNamespace } from "./template_namespace.ts";
import { asTuple, jinjaJson, pythonRepr, pythonText } from "./template_python.ts";
import { TemplateRegex } from "./template_regex.ts";
import {
  addValues,
  boundedJson,
  ensureValueSize,
  lookupMember,
  lookupPath,
  measureText,
  plainText,
  pythonTruth,
  SafeString,
  stringify,
  textOf,
  weightOf,
} from "./template_values.ts";

type Filter = (this: unknown, ...args: unknown[]) => unknown;

/** The parts of a nunjucks environment the filters are installed into. */
export interface FilterTable {
  filters: Record<string, Filter>;
  getFilter(name: string): unknown;
}

const runtime = nunjucks.runtime as unknown as {
  copySafeness(dest: unknown, target: string): unknown;
  markSafe(value: string): unknown;
};

/**
 * Filters whose list or dict result holds only items of their input (each once), so it can be no
 * bigger than the input; `map` and `batch`/`slice` padding bound themselves.
 */
const NON_EXPANDING = new Set([
  "batch",
  "d",
  "default",
  "dictsort",
  "first",
  "groupby",
  "last",
  "list",
  "map",
  "random",
  "reject",
  "rejectattr",
  "reverse",
  "select",
  "selectattr",
  "slice",
  "sort",
]);

/** Whitespace-free runs handled between two deadline checks in `urlize`. */
const WORDS_PER_TICK = 1_024;

const STRIP_TAGS = RE2JS.compile(
  "<\\/?([a-z][a-z0-9]*)\\b[^>]*>|<!--[\\s\\S]*?-->",
  RE2JS.CASE_INSENSITIVE,
);

function label(name: string): string {
  return `Filter "${name}"`;
}

function normalize(value: unknown, fallback: unknown): unknown {
  return value === null || value === undefined || value === false ? fallback : value;
}

/** How many spaces nunjucks' `repeat(' ', n)` makes: the loop runs while `i < n`. */
function spaceCount(count: number): number {
  return count > 0 ? Math.ceil(count) : 0;
}

function countOf(text: string, search: string): number {
  let count = 0;
  for (let at = text.indexOf(search); at !== -1; at = text.indexOf(search, at + search.length)) {
    count++;
  }
  return count;
}

/** Length of markupsafe's escape of `text`: `&`, `'` and `"` take 5 characters, `<` and `>` 4. */
function escapedLength(text: string): number {
  let length = text.length;
  for (let index = 0; index < text.length; index++) {
    switch (text.charCodeAt(index)) {
      case 0x26:
      case 0x27:
      case 0x22:
        length += 4;
        break;
      case 0x3c:
      case 0x3e:
        length += 3;
        break;
    }
  }
  return length;
}

/** Length of `encodeURIComponent(text)`, counted per UTF-16 unit without encoding. */
function encodedLength(text: string): number {
  let length = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) {
      length += /[A-Za-z0-9\-_.!~*'()]/.test(text[index] as string) ? 1 : 3;
    } else if (code < 0x800) {
      length += 6;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      length += 6;
    } else {
      length += 9;
    }
  }
  return length;
}

/** `striptags`' `^ +| +$` per line (multiline), without the regex's quadratic backtracking. */
function stripLineSpaces(text: string): string {
  return text.split(/([\n\r\u2028\u2029])/).map((part, index) => {
    if (index % 2 === 1) return part;
    let start = 0;
    let end = part.length;
    while (start < end && part[start] === " ") start++;
    while (end > start && part[end - 1] === " ") end--;
    return part.slice(start, end);
  }).join("");
}

/** Replacements for nunjucks builtins; each gets the builtin it replaces. */
type Bounded = (builtin: Filter) => Filter;

/** `default(value, fallback, true)` replaces a value false in Python's truth (`[]` too). */
const defaultFilter: Bounded = (builtin) =>
  function (this: unknown, value, fallback, boolean) {
    if (!boolean) return builtin.call(this, value, fallback, boolean);
    return pythonTruth(value) ? value : fallback;
  };

const BOUNDED: Record<string, Bounded> = {
  default: defaultFilter,
  d: defaultFilter,
  center: () =>
    function (str, width) {
      const value = normalize(str, "");
      const target = (width || 80) as number;
      const length = (value as { length?: number }).length as number;
      if (length >= target) return value;
      const spaces = target - length;
      const before = spaceCount(spaces / 2 - (spaces % 2));
      const after = spaceCount(spaces / 2);
      const text = textOf(value, MAX_TEMPLATE_OUTPUT, label("center"));
      currentBudget().ensureBuildable(label("center"), before + text.length + after);
      return runtime.copySafeness(value, " ".repeat(before) + text + " ".repeat(after));
    },

  indent: (builtin) =>
    function (this: unknown, str, width, indentFirst) {
      const value = normalize(str, "");
      if (value === "") return "";
      const text = plainText(value);
      if (text === undefined) return builtin.call(this, str, width, indentFirst);
      const pad = spaceCount((width || 4) as number);
      const indented = countOf(text, "\n") + (indentFirst ? 1 : 0);
      const length = text.length + (indented > 0 ? indented * pad : 0);
      currentBudget().ensureBuildable(label("indent"), length, { inputLength: text.length });
      const spaces = indented > 0 ? " ".repeat(pad) : "";
      const lines = text.split("\n")
        .map((line, index) => index === 0 && !indentFirst ? line : spaces + line);
      return runtime.copySafeness(value, lines.join("\n"));
    },

  replace: () =>
    function (str, old, replacement, maxCount) {
      const what = label("replace");
      const budget = currentBudget();
      if (old instanceof TemplateRegex) {
        const text = typeof str === "number" ? String(str) : plainText(str);
        if (text === undefined) throw new TypeError(`${what} needs text to search in`);
        return old.replace(text, textOf(replacement, MAX_TEMPLATE_OUTPUT, what), budget, what);
      }
      const limit = maxCount === undefined ? -1 : maxCount as number;
      let search: string;
      if (typeof old === "number") search = String(old);
      else if (typeof old === "string") search = old;
      else return str;
      const subject = typeof str === "number" ? String(str) : str;
      const text = plainText(subject);
      if (text === undefined) return subject;
      const insert = textOf(replacement, MAX_TEMPLATE_OUTPUT, what);
      if (search === "") {
        const length = (text.length + 1) * insert.length + text.length;
        budget.ensureBuildable(what, length, { inputLength: text.length });
        return runtime.copySafeness(subject, insert + text.split("").join(insert) + insert);
      }
      let next = text.indexOf(search);
      if (limit === 0 || next === -1) return subject;
      let count = 0;
      for (
        let at = next;
        at > -1 && (limit === -1 || count < limit);
        at = text.indexOf(search, at + search.length)
      ) {
        count++;
      }
      const length = text.length + count * (insert.length - search.length);
      budget.ensureBuildable(what, length, { inputLength: text.length });
      const parts: string[] = [];
      let position = 0;
      for (let done = 0; done < count; done++) {
        parts.push(text.substring(position, next), insert);
        position = next + search.length;
        next = text.indexOf(search, position);
      }
      if (position < text.length) parts.push(text.substring(position));
      return runtime.copySafeness(str, parts.join(""));
    },

  join: (builtin) =>
    function (this: unknown, items, separator, attribute) {
      const list = attribute && Array.isArray(items)
        ? items.map((item) => lookupPath(item, String(attribute)))
        : items;
      if (!Array.isArray(list)) return builtin.call(this, items, separator, attribute);
      const what = label("join");
      const glue = pythonText(separator ?? "", MAX_TEMPLATE_OUTPUT, what);
      const budget = currentBudget();
      const parts: string[] = [];
      let length = Math.max(0, list.length - 1) * glue.length;
      for (const item of list) {
        if (length > MAX_TEMPLATE_OUTPUT) break;
        const part = pythonText(item, MAX_TEMPLATE_OUTPUT + 1, what);
        length += part.length;
        parts.push(part);
      }
      budget.ensureBuildable(what, length, { atLeast: length > MAX_TEMPLATE_OUTPUT });
      return parts.join(glue);
    },

  list: (builtin) =>
    function (this: unknown, value) {
      const text = typeof value === "string" ? value : undefined;
      if (text !== undefined) {
        currentBudget().ensureBuildable(label("list"), text.length, {
          unit: "list items",
          inputLength: text.length,
        });
      }
      return builtin.call(this, value);
    },

  batch: (builtin) =>
    function (this: unknown, items, lineCount, fill) {
      const size = (items as { length?: unknown } | null | undefined)?.length;
      if (fill && typeof size === "number" && size > 0) {
        ensurePadding(label("batch"), Number(lineCount), fill);
      }
      return builtin.call(this, items, lineCount, fill);
    },

  slice: (builtin) =>
    function (this: unknown, items, slices, fill) {
      const count = Number(slices);
      if (count > MAX_TEMPLATE_LIST_ITEMS) {
        throw new TemplateLimitError(
          `${label("slice")} would make ${slices} slices, more than the limit of ` +
            `${MAX_TEMPLATE_LIST_ITEMS}`,
        );
      }
      if (fill && count > 0) ensurePadding(label("slice"), count, fill);
      return builtin.call(this, items, slices, fill);
    },

  sum: (builtin) =>
    function (this: unknown, items, attribute, start) {
      const list = attribute && Array.isArray(items)
        ? items.map((item) => lookupMember(item, attribute))
        : items;
      if (!Array.isArray(list)) return builtin.call(this, items, attribute, start);
      const what = label("sum");
      const budget = currentBudget();
      let total: unknown = 0;
      for (const [index, item] of list.entries()) {
        if (index % WORDS_PER_TICK === 0) budget.tick();
        total = addValues(total, item, what, budget);
      }
      return addValues(start === undefined ? 0 : start, total, what, budget);
    },

  nl2br: (builtin) =>
    function (this: unknown, str) {
      const text = plainText(str);
      if (text !== undefined) {
        currentBudget().ensureBuildable(label("nl2br"), text.length + 6 * countOf(text, "\n"), {
          inputLength: text.length,
        });
      }
      return builtin.call(this, str);
    },

  escape: escaping("escape", false),
  e: escaping("e", false),
  forceescape: escaping("forceescape", true),

  safe: (builtin) =>
    function (this: unknown, str) {
      if (str instanceof SafeString) return str;
      const value = str === null || str === undefined ? "" : str;
      return builtin.call(this, textOf(value, MAX_TEMPLATE_OUTPUT, label("safe")));
    },

  string: () =>
    function (value) {
      if (value instanceof SafeString) return value;
      return pythonText(value, MAX_TEMPLATE_OUTPUT, label("string"));
    },

  int: () =>
    function (value, fallback) {
      return jinjaInt(value, fallback === undefined ? 0 : fallback);
    },

  dictsort: (builtin) =>
    function (this: unknown, ...args) {
      return (builtin.apply(this, args) as unknown[][]).map((pair) => asTuple(pair));
    },

  urlencode: (builtin) =>
    function (this: unknown, value) {
      const what = label("urlencode");
      let length = 0;
      if (typeof value === "string") {
        length = encodedLength(value);
      } else if (value !== null && typeof value === "object") {
        const pairs: unknown[] = Array.isArray(value) ? value : Object.entries(value);
        for (const [index, pair] of pairs.entries()) {
          const [key, item] = [(pair as unknown[])[0], (pair as unknown[])[1]];
          length += (index > 0 ? 1 : 0) + 1 +
            encodedLength(textOf(key, MAX_TEMPLATE_OUTPUT, what)) +
            encodedLength(textOf(item, MAX_TEMPLATE_OUTPUT, what));
          if (length > MAX_TEMPLATE_OUTPUT) break;
        }
      }
      currentBudget().ensureBuildable(what, length);
      const encoded = builtin.call(this, value);
      // Jinja2 quotes a string with `safe="/"`; pairs of a dict or list are quoted fully.
      return typeof value === "string" ? String(encoded).replaceAll("%2F", "/") : encoded;
    },

  urlize: (builtin) =>
    function (this: unknown, str, length, nofollow) {
      const text = plainText(str);
      if (text === undefined) return builtin.call(this, str, length, nofollow);
      const what = label("urlize");
      const budget = currentBudget();
      const parts: string[] = [];
      let total = 0;
      for (const [index, word] of text.split(/(\s+)/).entries()) {
        if (index % WORDS_PER_TICK === 0) budget.tick();
        if (!word) continue;
        const part = builtin.call(this, word, length, nofollow) as string;
        total += part.length;
        budget.ensureBuildable(what, total);
        parts.push(part);
      }
      return parts.join("");
    },

  striptags: () =>
    function (input, preserveLinebreaks) {
      const value = normalize(input, "");
      const text = plainText(value);
      if (text === undefined) throw new TypeError(`${label("striptags")} needs text`);
      const stripped = STRIP_TAGS.matcher(text).replaceAll("").trim();
      const result = preserveLinebreaks
        ? stripLineSpaces(stripped).replace(/ +/g, " ").replace(/(\r\n)/g, "\n")
          .replace(/\n\n\n+/g, "\n\n")
        : stripped.replace(/\s+/gi, " ");
      return runtime.copySafeness(value, result);
    },

  trim: (builtin) =>
    function (this: unknown, str) {
      const text = plainText(str);
      if (text === undefined) return builtin.call(this, str);
      return runtime.copySafeness(str, text.trim());
    },

  truncate: (builtin) =>
    function (this: unknown, input, length, killWords, end) {
      if (end === undefined || end === null) return builtin.call(this, input, length, killWords);
      const what = label("truncate");
      const tail = textOf(end, MAX_TEMPLATE_OUTPUT, what);
      const head = measureText(normalize(input, ""), Infinity);
      // nunjucks returns a text no longer than `length` untouched: `end` is only added on a cut.
      if (!(head <= Number(length || 255))) {
        currentBudget().ensureBuildable(what, head + tail.length, { inputLength: head });
      }
      return builtin.call(this, input, length, killWords, tail);
    },

  dump: () =>
    function (value, spaces) {
      return boundedJson(value, {
        limit: MAX_TEMPLATE_OUTPUT,
        what: label("dump"),
        indent: spaces,
      });
    },
};

/** markupsafe's `escape`, as Jinja2's `e`, `escape` and `forceescape`: `"` becomes `&#34;`. */
function escaping(name: string, force: boolean): Bounded {
  return () =>
    function (str) {
      if (str instanceof SafeString && !force) return str;
      const text = pythonText(str, MAX_TEMPLATE_OUTPUT, label(name));
      currentBudget().ensureBuildable(label(name), escapedLength(text), {
        inputLength: text.length,
      });
      return runtime.markSafe(
        text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
          .replaceAll("'", "&#39;").replaceAll('"', "&#34;"),
      );
    };
}

/**
 * Jinja2's `int`: Python's `int()` of the value, else `int(float())` of it (`'4.7'` is 4), else
 * `fallback`; `True` is 1.
 */
function jinjaInt(value: unknown, fallback: unknown): unknown {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") return Number.isFinite(value) ? Math.trunc(value) : fallback;
  const text = plainText(value)?.trim().replaceAll(/(?<=[0-9])_(?=[0-9])/g, "");
  if (text === undefined) return fallback;
  if (/^[+-]?[0-9]+$/.test(text)) return Number(text);
  if (/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?$/i.test(text)) {
    const number = Number(text);
    return Number.isFinite(number) ? Math.trunc(number) : fallback;
  }
  return fallback;
}

/** `batch`/`slice` padding: at most `MAX_TEMPLATE_LIST_ITEMS` copies, within the value size. */
function ensurePadding(what: string, count: number, fill: unknown): void {
  if (!(count <= MAX_TEMPLATE_LIST_ITEMS)) {
    throw new TemplateLimitError(
      `${what} would pad with ${count} items, more than the limit of ${MAX_TEMPLATE_LIST_ITEMS}`,
    );
  }
  const weight = weightOf(fill, currentBudget(), MAX_TEMPLATE_VALUE_SIZE);
  if (weight * count > MAX_TEMPLATE_VALUE_SIZE) {
    throw new TemplateLimitError(
      `${what} would pad with a value of more than ${MAX_TEMPLATE_VALUE_SIZE} characters`,
    );
  }
}

/** Jinja2's `tojson`: Python's JSON layout with sorted keys, HTML-safe (see `jinjaJson`). */
function toJson(value: unknown, indent?: unknown): unknown {
  return new SafeString(jinjaJson(value ?? null, MAX_TEMPLATE_OUTPUT, label("tojson"), indent));
}

/** Jinja's `format`: printf-style `%s`, `%d`, `%i`, `%f`, `%.Nf`, `%x`, `%r` and `%%`. */
function formatString(template: unknown, ...args: unknown[]): string {
  const what = label("format");
  const budget = currentBudget();
  const text = textOf(template ?? "", MAX_TEMPLATE_OUTPUT, what);
  let index = 0;
  let length = text.length;
  return text.replace(
    /%(\.(\d+))?([sdifxr%])/g,
    (match, _precision, digits: string | undefined, kind: string) => {
      const part = formatPart(kind, args[kind === "%" ? -1 : index++], digits);
      length += part.length - match.length;
      budget.ensureBuildable(what, length, { inputLength: text.length });
      return part;
    },
  );
}

function formatPart(kind: string, value: unknown, digits: string | undefined): string {
  switch (kind) {
    case "%":
      return "%";
    case "d":
    case "i":
      return String(Math.trunc(Number(value)));
    case "f":
      return Number(value).toFixed(digits === undefined ? 6 : Number(digits));
    case "x":
      return Math.trunc(Number(value)).toString(16);
    case "r":
      return pythonRepr(value, MAX_TEMPLATE_OUTPUT, label("format"));
    default:
      return stringify(value, MAX_TEMPLATE_OUTPUT);
  }
}

/**
 * Jinja's `groupby`: a list of `[grouper, items]` pairs sorted by grouper, each pair also carrying
 * `grouper` and `list`, so both `for key, items in …` and `group.grouper` work.
 */
function groupBy(items: unknown, attribute: unknown): unknown[] {
  const groups = new Map<string, { grouper: unknown; list: unknown[] }>();
  for (const item of Array.isArray(items) ? items : []) {
    const grouper = lookupPath(item, String(attribute));
    const key = stringify(grouper, MAX_TEMPLATE_OUTPUT);
    const group = groups.get(key) ?? { grouper, list: [] };
    group.list.push(item);
    groups.set(key, group);
  }
  return [...groups.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    .map(([, group]) => Object.assign([group.grouper, group.list], group));
}

function isKeywordArgs(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && Object.hasOwn(value, "__keywords");
}

/**
 * Jinja's `map`: `map(attribute='a.b', default=…)` or `map('filter', args…)`. Results made by a
 * filter or from `default` are measured as they come, so the list stays within
 * `MAX_TEMPLATE_VALUE_SIZE`.
 */
function mapFilter(table: FilterTable): Filter {
  return function (this: unknown, items: unknown, ...args: unknown[]): unknown {
    const keywords = isKeywordArgs(args.at(-1)) ? args.pop() as Record<string, unknown> : {};
    const list = Array.isArray(items) ? items : [];
    let each: (item: unknown) => unknown;
    if (typeof keywords.attribute === "string") {
      const path = keywords.attribute;
      if (!Object.hasOwn(keywords, "default")) return list.map((item) => lookupPath(item, path));
      each = (item) => lookupPath(item, path) ?? keywords.default;
    } else {
      const [filterName, ...filterArgs] = args;
      if (typeof filterName !== "string") return list;
      const filter = table.getFilter(filterName) as Filter;
      each = (item) => filter.call(this, item, ...filterArgs);
    }
    const budget = currentBudget();
    const results: unknown[] = [];
    let weight = 2;
    for (const item of list) {
      const result = each(item);
      weight += weightOf(result, budget, MAX_TEMPLATE_VALUE_SIZE) + 1;
      if (weight > MAX_TEMPLATE_VALUE_SIZE) {
        throw new TemplateLimitError(
          `${label("map")} would build a list of more than ${MAX_TEMPLATE_VALUE_SIZE} characters`,
        );
      }
      results.push(result);
    }
    return results;
  };
}

/** How `unique`, `min` and `max` compare: by `attribute`, strings lowercased unless told. */
function sortKey(item: unknown, caseSensitive: unknown, attribute: unknown): unknown {
  const value = attribute === undefined || attribute === null
    ? item
    : lookupPath(item, String(attribute));
  const text = plainText(value);
  return text !== undefined && !caseSensitive ? text.toLowerCase() : value;
}

function keywordsOf(args: unknown[]): Record<string, unknown> {
  return isKeywordArgs(args.at(-1)) ? args.pop() as Record<string, unknown> : {};
}

/** Jinja's `unique(case_sensitive=False, attribute=None)`: first of each, in order. */
function uniqueFilter(items: unknown, ...args: unknown[]): unknown[] {
  const keywords = keywordsOf(args);
  const caseSensitive = keywords.case_sensitive ?? args[0];
  const attribute = keywords.attribute ?? args[1];
  const seen: unknown[] = [];
  const result: unknown[] = [];
  for (const item of Array.isArray(items) ? items : []) {
    const key = sortKey(item, caseSensitive, attribute);
    if (!seen.includes(key)) {
      seen.push(key);
      result.push(item);
    }
  }
  return result;
}

/** Jinja's `min`/`max(case_sensitive=False, attribute=None)`; undefined for an empty list. */
function extreme(sign: 1 | -1): Filter {
  return function (items: unknown, ...args: unknown[]): unknown {
    const keywords = keywordsOf(args);
    const caseSensitive = keywords.case_sensitive ?? args[0];
    const attribute = keywords.attribute ?? args[1];
    let best: unknown;
    let bestKey: unknown;
    for (const [index, item] of (Array.isArray(items) ? items : []).entries()) {
      const key = sortKey(item, caseSensitive, attribute) as number;
      const order = key > (bestKey as number) ? 1 : key < (bestKey as number) ? -1 : 0;
      if (index === 0 || sign * order > 0) {
        best = item;
        bestKey = key;
      }
    }
    return best;
  };
}

/**
 * Jinja's `range(stop)` / `range(start, stop[, step])`, refused past `MAX_TEMPLATE_LIST_ITEMS`
 * items before the list is made.
 */
export function templateRange(start: unknown, stop?: unknown, step?: unknown): number[] {
  const [from, to, by] = stop === undefined
    ? [0, Number(start), 1]
    : [Number(start), Number(stop), step ? Number(step) : 1];
  const count = Math.max(0, Math.ceil(by > 0 ? (to - from) / by : (from - to) / -by));
  if (Number.isNaN(count)) return [];
  if (!(count <= MAX_TEMPLATE_LIST_ITEMS)) {
    throw new TemplateLimitError(
      `range() would make ${count} items, more than the limit of ${MAX_TEMPLATE_LIST_ITEMS}`,
    );
  }
  currentBudget().addBuilt("range()", count, { unit: "list items" });
  return Array.from({ length: count }, (_, index) => from + index * by);
}

/** Counts what a filter returned: new text and list slots, and refuses oversized new values. */
function account(name: string, result: unknown, args: unknown[], budget: RenderBudget): void {
  const what = label(name);
  const text = plainText(result);
  if (text !== undefined) {
    const input = plainText(args[0]);
    if (text === input) return;
    budget.ensureBuildable(what, text.length, { inputLength: input?.length ?? 0 });
    budget.addBuilt(what, text.length);
    return;
  }
  if (result === null || typeof result !== "object" || args.includes(result)) return;
  const slots = Array.isArray(result) ? result.length : Object.keys(result).length;
  budget.addBuilt(what, slots, { unit: "list items" });
  if (!NON_EXPANDING.has(name)) ensureValueSize(what, result, budget);
}

function guard(name: string, filter: Filter): Filter {
  return function (this: unknown, ...args: unknown[]): unknown {
    const budget = currentBudget();
    budget.tick();
    const result = filter.apply(this, args);
    account(name, result, args, budget);
    return result;
  };
}

type Test = (this: unknown, ...args: unknown[]) => boolean;

/** Jinja2's tests that nunjucks lacks. */
const JINJA_TESTS: Record<string, Test> = {
  // `select` and `reject` without a test use these: Python's truth, as Jinja2.
  truthy: (value) => pythonTruth(value),
  falsy: (value) => !pythonTruth(value),
  none: (value) => value === null,
  true: (value) => value === true,
  false: (value) => value === false,
  boolean: (value) => typeof value === "boolean",
  integer: (value) => typeof value === "number" && Number.isInteger(value),
  float: (value) => typeof value === "number" && !Number.isInteger(value),
  sequence: (value) =>
    Array.isArray(value) || typeof value === "string" || value instanceof SafeString ||
    (value !== null && typeof value === "object" && !isNamespace(value)),
  mapping: (value) =>
    value !== null && typeof value === "object" && !Array.isArray(value) &&
    !(value instanceof SafeString) && !isNamespace(value),
  in: (value, container) => {
    if (Array.isArray(container)) return container.includes(value);
    const text = plainText(container);
    if (text !== undefined) return text.includes(pythonText(value, MAX_TEMPLATE_OUTPUT, "in"));
    return typeof value === "string" && container !== null && typeof container === "object" &&
      Object.hasOwn(container, value);
  },
};

/** Adds Jinja2's tests nunjucks lacks (`none`, `true`, `false`, `boolean`, `integer`, …). */
export function installTests(tests: Record<string, unknown>): void {
  Object.assign(tests, JINJA_TESTS);
}

/**
 * Replaces the builtins of `table` that could allocate without bound or backtrack, adds
 * Flowgate's filters, and wraps every filter so it checks the deadline and counts what it built.
 */
export function installFilters(table: FilterTable): void {
  const filters = table.filters;
  for (const [name, bounded] of Object.entries(BOUNDED)) {
    const builtin = filters[name];
    if (builtin) filters[name] = bounded(builtin);
  }
  filters.tojson = toJson as Filter;
  filters.format = formatString as Filter;
  filters.groupby = groupBy as Filter;
  filters.map = mapFilter(table);
  filters.unique = uniqueFilter as Filter;
  filters.min = extreme(-1);
  filters.max = extreme(1);
  for (const [name, filter] of Object.entries(filters)) filters[name] = guard(name, filter);
}
