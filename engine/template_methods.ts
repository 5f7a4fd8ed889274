/**
 * The Python methods Jinja2 templates call on data (MISP renders params with Jinja2, whose sandbox
 * allows them): `dict.items()`, `keys()`, `values()`, `get()`, and the common `str` methods. Each
 * result is no bigger than its input, and lists are counted in the render's budget; `replace`
 * goes through the bounded `replace` filter.
 *
 * @module
 */

import { currentBudget } from "./template_budget.ts";
import { asTuple } from "./template_python.ts";
import { isBlockedMember, lookupMember, plainText } from "./template_values.ts";

/** Runs a filter by name (`replace`), as the template's filter table has it. */
export type FilterCaller = (name: string, ...args: unknown[]) => unknown;

type Method = (target: never, args: unknown[], filter: FilterCaller) => unknown;

/** Python's whitespace, as `str.split()` and `str.strip()` without arguments see it. */
// deno-lint-ignore no-control-regex -- Python counts the separators \x1c-\x1f as whitespace.
const WHITESPACE = /[\s\u001c-\u001f\u0085]/u;

function isDict(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) &&
    plainText(value) === undefined &&
    [Object.prototype, null].includes(Object.getPrototypeOf(value));
}

function counted<T>(what: string, items: T[]): T[] {
  currentBudget().addBuilt(what, items.length, { unit: "list items" });
  return items;
}

function textArg(value: unknown, method: string): string {
  const text = plainText(value);
  if (text === undefined) throw new TypeError(`str.${method}() needs a string argument`);
  return text;
}

function stripSet(args: unknown[], method: string): (char: string) => boolean {
  const chars = args[0];
  if (chars === undefined || chars === null) return (char) => WHITESPACE.test(char);
  const set = new Set(textArg(chars, method));
  return (char) => set.has(char);
}

function strip(text: string, strips: (char: string) => boolean, left: boolean, right: boolean) {
  const chars = [...text];
  let start = 0;
  let end = chars.length;
  while (left && start < end && strips(chars[start] as string)) start++;
  while (right && end > start && strips(chars[end - 1] as string)) end--;
  return chars.slice(start, end).join("");
}

/** Python's `str.split(sep=None, maxsplit=-1)`. */
function split(text: string, args: unknown[]): string[] {
  const separator = args[0];
  const limit = args[1] === undefined ? -1 : Number(args[1]);
  const parts: string[] = [];
  if (separator === undefined || separator === null) {
    let rest = strip(text, (char) => WHITESPACE.test(char), true, false);
    while (rest !== "") {
      if (limit >= 0 && parts.length >= limit) {
        parts.push(rest);
        break;
      }
      const chars = [...rest];
      let end = 0;
      while (end < chars.length && !WHITESPACE.test(chars[end] as string)) end++;
      parts.push(chars.slice(0, end).join(""));
      rest = strip(chars.slice(end).join(""), (char) => WHITESPACE.test(char), true, false);
    }
    return parts;
  }
  const glue = textArg(separator, "split");
  if (glue === "") throw new RangeError("str.split(): empty separator");
  let position = 0;
  for (let at = text.indexOf(glue); at !== -1; at = text.indexOf(glue, position)) {
    if (limit >= 0 && parts.length >= limit) break;
    parts.push(text.slice(position, at));
    position = at + glue.length;
  }
  parts.push(text.slice(position));
  return parts;
}

function affix(text: string, args: unknown[], method: "startsWith" | "endsWith"): boolean {
  const wanted = Array.isArray(args[0]) ? args[0] : [args[0]];
  return wanted.some((item) => text[method](textArg(item, method.toLowerCase())));
}

const DICT_METHODS: Record<string, Method> = {
  items: (dict: Record<string, unknown>) =>
    counted("dict.items()", Object.keys(dict).filter((key) => !isBlockedMember(key)))
      .map((key) => asTuple([key, dict[key]])),
  keys: (dict: Record<string, unknown>) =>
    counted("dict.keys()", Object.keys(dict).filter((key) => !isBlockedMember(key))),
  values: (dict: Record<string, unknown>) =>
    counted(
      "dict.values()",
      Object.keys(dict).filter((key) => !isBlockedMember(key)).map((key) => dict[key]),
    ),
  get: (dict: Record<string, unknown>, args) => {
    const key = args[0];
    if (typeof key === "string" && Object.hasOwn(dict, key) && !isBlockedMember(key)) {
      return lookupMember(dict, key);
    }
    return args[1] === undefined ? null : args[1];
  },
};

const STRING_METHODS: Record<string, Method> = {
  lower: (text: string) => text.toLowerCase(),
  upper: (text: string) => text.toUpperCase(),
  strip: (text: string, args) => strip(text, stripSet(args, "strip"), true, true),
  lstrip: (text: string, args) => strip(text, stripSet(args, "lstrip"), true, false),
  rstrip: (text: string, args) => strip(text, stripSet(args, "rstrip"), false, true),
  startswith: (text: string, args) => affix(text, args, "startsWith"),
  endswith: (text: string, args) => affix(text, args, "endsWith"),
  split: (text: string, args) => counted("str.split()", split(text, args)),
  replace: (text: string, args, filter) => filter("replace", text, ...args),
};

/**
 * The Python method `name` of `target` as Jinja2 would call it, or undefined when the value has
 * no such method here (the caller then treats the member as a plain value).
 */
export function pythonMethod(
  target: unknown,
  name: unknown,
): ((args: unknown[], filter: FilterCaller) => unknown) | undefined {
  if (typeof name !== "string") return undefined;
  const text = plainText(target);
  const table = text !== undefined ? STRING_METHODS : isDict(target) ? DICT_METHODS : undefined;
  if (!table || !Object.hasOwn(table, name)) return undefined;
  const method = table[name] as Method;
  const self = (text ?? target) as never;
  return (args, filter) => method(self, args, filter);
}
