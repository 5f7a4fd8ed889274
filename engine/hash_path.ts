/**
 * CakePHP 2 `Hash::get`, `Hash::extract`, `Hash::insert` and `Hash::remove`, quirks included, so
 * selectors and hash paths in workflows select exactly what MISP selects.
 *
 * Reads never copy: `extract` and `get` return values (and, for plain paths, whole containers)
 * from `data` itself, so callers must not mutate what they get back. `insert` and `remove` never
 * mutate their input either: they copy the containers along the changed path and share the rest
 * (PHP's value semantics). Lists stay dense JS arrays: where PHP would leave a gap after `unset`,
 * the surviving items close up, as the engine treats filtered lists.
 *
 * @module
 */

import { HASH_PATH_CACHE_SIZE, MAX_DATA_DEPTH } from "./limits.ts";
import {
  isNumericString,
  isPhpArray,
  looseCompare,
  looseEquals,
  type PhpArray,
  phpEmpty,
  toPhpString,
} from "./php_compare.ts";
import { compileRegex, RegexError } from "./regex.ts";

/** The PHP array shape `extract`, `insert` and `remove` return, re-exported for their callers. */
export type { PhpArray } from "./php_compare.ts";

/** Raised where PHP's `Hash` crashes with a TypeError (non-array data, regex on an array). */
export class HashPathError extends TypeError {
  /** The path being applied. */
  readonly path: string;

  /** Builds the error; `message` should name the path and the offending value. */
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HashPathError";
    this.path = path;
  }
}

/** Something PHP would only warn about (an unusable regex); the condition simply fails. */
export interface HashPathWarning {
  /** The path being applied. */
  readonly path: string;
  /** What went wrong, in a sentence. */
  readonly message: string;
  /** The underlying error, such as a {@link RegexError}. */
  readonly cause?: Error;
}

/** Options of {@link extract}. */
export interface ExtractOptions {
  /** Receives each warning once per call, e.g. to put it in the run's trace. */
  onWarning?: (warning: HashPathWarning) => void;
}

/** A path as PHP code receives it: `empty()` ones (`""`, `"0"`, `0`, `null`) mean "no path". */
export type HashPathInput = string | number | boolean | null | undefined;

type ConditionOperator = "" | "=" | "!=" | ">" | "<" | ">=" | "<=";

interface Condition {
  readonly source: string;
  readonly attr: string;
  readonly op: ConditionOperator;
  readonly value: string;
  readonly valueIsNumeric: boolean;
  readonly isRegex: boolean;
}

type TokenKind = "numeric" | "string" | "any" | "numeric-key" | "key";

interface Token {
  readonly name: string;
  readonly kind: TokenKind;
  /** Undefined without a `[` suffix; possibly empty when the suffix parsed to nothing. */
  readonly conditions: readonly Condition[] | undefined;
}

type ParsedPath =
  | { readonly plain: true; readonly parts: readonly string[] }
  | { readonly plain: false; readonly tokens: readonly Token[]; readonly hasRegex: boolean };

/** `Hash::_matches`' selector pattern, with PCRE's `\s` and `.` spelled out for JS. */
const CONDITION_PATTERN =
  /\[([^=><!]+?)(?:[ \t\n\v\f\r]*([><!]?=|[><])[ \t\n\v\f\r]*(\/[^\n]*?\/|[^\]]+))?\]/g;
// PHP's trim() strips " \t\n\r\0\x0B"; \v is \x0B.
const PHP_TRIM = /^[ \t\n\r\v\0]+|[ \t\n\r\v\0]+$/g;
const CANONICAL_INT_KEY = /^(?:0|-?[1-9]\d*)$/;
const INT64_MAX = 9_223_372_036_854_775_807n;
const INT64_MIN = -9_223_372_036_854_775_808n;

const parsedPaths = new Map<string, ParsedPath>();

/**
 * `Hash::get(data, path, default)`: follows a dotted path (no wildcards, exact keys) and returns
 * the value, or `fallback` when a key is missing or null or the data is empty.
 *
 * @throws {HashPathError} when `data` is not an array or object (PHP's TypeError).
 */
export function get(
  data: unknown,
  path: string | number | readonly string[] | null | undefined,
  fallback: unknown = null,
): unknown {
  if (!isPhpArray(data)) {
    requireArray(data, Array.isArray(path) ? path.join(".") : String(path), "read");
  }
  if (path === null || path === undefined) return fallback;
  const parts = Array.isArray(path) ? path : pathText(path as string | number).split(".");
  return getParts(data as PhpArray, parts, fallback);
}

/** `Hash::get` after the argument checks, on a path already split. */
function getParts(data: PhpArray, parts: readonly string[], fallback: unknown): unknown {
  if (phpEmpty(data)) return fallback;
  let current: unknown = data;
  for (const part of parts) {
    const next = isPhpArray(current) ? lookup(current, part) : undefined;
    if (next === undefined || next === null) return fallback;
    current = next;
  }
  return current;
}

/**
 * `Hash::extract(data, path)`: the values a path selects. An empty path returns `data`; a plain
 * dotted path returns the value cast to an array (a map or list comes back as it is, a scalar as
 * `[scalar]`, missing or null as `[]`); a path with `{n}`, `{s}`, `{*}` or `[conditions]` returns
 * the flat list of matches in document order.
 *
 * @throws {HashPathError} when `data` is not an array or object, or a regex condition meets an
 * array value (both TypeErrors in PHP).
 */
export function extract(data: unknown, path: HashPathInput, options?: ExtractOptions): PhpArray {
  const text = phpEmpty(path) ? "" : pathText(path as string | number | true);
  const container = requireArray(data, text, "extract");
  if (text === "") return container;
  const parsed = parsePath(text);
  if (parsed.plain) return castToArray(getParts(container, parsed.parts, null));
  const context = parsed.hasRegex ? new MatchContext(text, options?.onWarning) : SILENT;
  let current: unknown[] = [data];
  for (const token of parsed.tokens) {
    const next: unknown[] = [];
    for (let index = 0; index < current.length; index++) {
      collectMatches(current[index], token, next);
    }
    current = token.conditions === undefined ? next : filterByConditions(next, token, context);
  }
  return current;
}

/**
 * `Hash::insert(data, path, values)` (CakePHP 2): a plain path sets the leaf, creating
 * intermediate arrays and replacing scalars on the way; a wildcard path descends into every
 * matching child, and where its last token is reached `values` is merged into the match
 * (`array_merge`). Returns a new value; `data` is not changed.
 *
 * @throws {HashPathError} where PHP raises a TypeError (non-array data or matched child), and
 * for a path of more than `MAX_DATA_DEPTH` keys (it would nest data past the limit).
 */
export function insert(data: unknown, path: string, values: unknown): PhpArray {
  requireBoundedPath(path, "insert at");
  return insertAt(requireArray(data, path, "insert into"), path, values, path);
}

function insertAt(container: PhpArray, path: string, values: unknown, fullPath: string): PhpArray {
  const tokens = path.includes("[") ? tokenize(path) : path.split(".");
  if (!path.includes("{") && !path.includes("[")) {
    return insertPlain(container, tokens, 0, values);
  }
  const [first, ...rest] = tokens as [string, ...string[]];
  const nextPath = rest.join(".");
  const token = parseToken(first);
  let result: PhpArray | undefined;
  for (const [key, child] of entriesOf(container)) {
    if (!matchToken(key, token)) continue;
    if (token.conditions !== undefined) {
      const item = requireArray(child, fullPath, "test conditions on");
      if (!matchesConditions(item, token.conditions, new MatchContext(fullPath, undefined))) {
        continue;
      }
    }
    // PHP tests `$nextPath ?`, so a remaining path of "0" merges too.
    const replacement = phpEmpty(nextPath)
      ? arrayMerge(requireArray(child, fullPath, "merge into"), castToArray(values))
      : insertAt(requireArray(child, fullPath, "insert into"), nextPath, values, fullPath);
    result = setKey(result ?? copyOf(container), key, replacement);
  }
  return result ?? container;
}

/**
 * `Hash::remove(data, path)` (CakePHP 2): a plain path unsets the leaf; a wildcard path removes
 * matching scalars at its end, recurses into matching arrays and drops children left empty. Like
 * PHP, a trailing `{n}` over arrays of arrays removes nothing. Returns a new value; `data` is not
 * changed.
 *
 * @throws {HashPathError} when `data` is not an array or object, or the path has more than
 * `MAX_DATA_DEPTH` keys.
 */
export function remove(data: unknown, path: string): PhpArray {
  requireBoundedPath(path, "remove at");
  return removeAt(requireArray(data, path, "remove from"), path, path);
}

/**
 * `insert` and `remove` recurse once per key of the path: a path longer than the data may nest
 * (`MAX_DATA_DEPTH`) is refused before it can overflow the stack.
 */
function requireBoundedPath(path: string, verb: string): void {
  let keys = 1;
  for (let index = path.indexOf("."); index !== -1; index = path.indexOf(".", index + 1)) keys++;
  if (keys <= MAX_DATA_DEPTH) return;
  const shown = path.length > 60 ? `${path.slice(0, 60)}…` : path;
  throw new HashPathError(
    path,
    `Cannot ${verb} hash path "${shown}": it has ${keys} keys, the limit is ${MAX_DATA_DEPTH}`,
  );
}

function removeAt(container: PhpArray, path: string, fullPath: string): PhpArray {
  const tokens = path.includes("[") ? tokenize(path) : path.split(".");
  if (!path.includes("{") && !path.includes("[")) return removePlain(container, tokens, 0);
  const [first, ...rest] = tokens as [string, ...string[]];
  const nextPath = rest.join(".");
  const token = parseToken(first);
  const context = new MatchContext(fullPath, undefined);
  const kept: [string, unknown][] = [];
  let changed = false;
  for (const [key, child] of entriesOf(container)) {
    const match = matchToken(key, token);
    let value: unknown = child;
    let drop = false;
    if (match && isPhpArray(child)) {
      if (token.conditions === undefined) {
        value = removeAt(child, nextPath, fullPath);
      } else if (matchesConditions(child, token.conditions, context)) {
        if (nextPath !== "") value = removeAt(child, nextPath, fullPath);
        else drop = true;
      }
      drop ||= phpEmpty(value);
    } else if (match && nextPath === "") {
      drop = true;
    }
    if (drop || value !== child) changed = true;
    if (!drop) kept.push([key, value]);
  }
  if (!changed) return container;
  return Array.isArray(container) ? kept.map(([, value]) => value) : Object.fromEntries(kept);
}

/** Splits a path like CakeText::tokenize(path, '.', '[', ']') and parses each token, cached. */
function parsePath(path: string): ParsedPath {
  const cached = parsedPaths.get(path);
  if (cached !== undefined) return cached;
  let parsed: ParsedPath;
  if (!path.includes("{") && !path.includes("[")) {
    parsed = { plain: true, parts: path.split(".") };
  } else {
    const tokens = path.includes("[") ? tokenize(path) : path.split(".");
    const parsedTokens = tokens.map(parseToken);
    const hasRegex = parsedTokens.some((token) => token.conditions?.some((c) => c.isRegex));
    parsed = { plain: false, tokens: parsedTokens, hasRegex };
  }
  if (parsedPaths.size >= HASH_PATH_CACHE_SIZE) {
    parsedPaths.delete(parsedPaths.keys().next().value as string);
  }
  parsedPaths.set(path, parsed);
  return parsed;
}

/**
 * `CakeText::tokenize`: splits on `.` at bracket depth 0 only. The depth may go negative (a stray
 * `]`) or stay positive (an unclosed `[`), which glues the rest of the path into one token. Each
 * token is trimmed with PHP's `trim`.
 */
function tokenize(path: string): string[] {
  const results: string[] = [];
  let depth = 0;
  let buffer = "";
  for (const char of path) {
    if (char === "." && depth === 0) {
      results.push(buffer.replace(PHP_TRIM, ""));
      buffer = "";
      continue;
    }
    buffer += char;
    if (char === "[") depth++;
    else if (char === "]") depth--;
  }
  results.push(buffer.replace(PHP_TRIM, ""));
  return results;
}

function parseToken(text: string): Token {
  const bracket = text.indexOf("[");
  const name = bracket === -1 ? text : text.slice(0, bracket);
  const conditions = bracket === -1 ? undefined : parseConditions(text.slice(bracket));
  return { name, kind: tokenKind(name), conditions };
}

function tokenKind(name: string): TokenKind {
  if (name === "{n}") return "numeric";
  if (name === "{s}") return "string";
  if (name === "{*}") return "any";
  return isNumericString(name) ? "numeric-key" : "key";
}

/** `Hash::_matches`' preg_match_all: conditions that do not parse are silently skipped. */
function parseConditions(text: string): Condition[] {
  const conditions: Condition[] = [];
  for (const match of text.matchAll(CONDITION_PATTERN)) {
    const op = (match[2] ?? "") as ConditionOperator;
    const value = match[3] ?? "";
    conditions.push({
      source: match[0],
      attr: match[1] as string,
      op,
      value,
      valueIsNumeric: isNumericString(value),
      isRegex: op === "=" && value.startsWith("/"),
    });
  }
  return conditions;
}

/** `Hash::_matchToken(key, token)` for a key as JS spells it (PHP int keys as their digits). */
function matchToken(key: string, token: Token): boolean {
  switch (token.kind) {
    case "numeric":
      return isNumericString(key);
    case "string":
      return !isIntKey(key);
    case "any":
      return true;
    case "numeric-key":
      return looseEquals(key, token.name);
    case "key":
      return key === token.name;
  }
}

/** Appends the children of `item` (cast with PHP's `(array)`) whose keys match `token`. */
function collectMatches(item: unknown, token: Token, out: unknown[]): void {
  if (item === null || item === undefined) return;
  if (!isPhpArray(item)) {
    // `(array)$scalar` is `[0 => $scalar]`.
    if (token.kind === "key" || token.kind === "string") return;
    if (token.kind === "numeric-key" && !looseEquals("0", token.name)) return;
    out.push(item);
    return;
  }
  if (Array.isArray(item)) {
    switch (token.kind) {
      case "numeric":
      case "any":
        for (let index = 0; index < item.length; index++) out.push(item[index]);
        return;
      case "numeric-key": {
        const index = Number(token.name);
        if (Number.isInteger(index) && index >= 0 && index < item.length) out.push(item[index]);
        return;
      }
      default:
        return;
    }
  }
  const map = item as Readonly<Record<string, unknown>>;
  if (token.kind === "key") {
    if (Object.hasOwn(map, token.name)) out.push(map[token.name]);
    return;
  }
  for (const key in map) {
    if (Object.hasOwn(map, key) && matchToken(key, token)) out.push(map[key]);
  }
}

/** Carries the path and the warning sink through one call, and reports each problem once. */
class MatchContext {
  readonly path: string;
  #onWarning: ((warning: HashPathWarning) => void) | undefined;
  #reported = new Set<string>();

  constructor(path: string, onWarning: ((warning: HashPathWarning) => void) | undefined) {
    this.path = path;
    this.#onWarning = onWarning;
  }

  warn(key: string, message: string, cause?: Error): void {
    if (this.#onWarning === undefined || this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#onWarning(
      cause === undefined ? { path: this.path, message } : {
        path: this.path,
        message,
        cause,
      },
    );
  }
}

/** The context of paths without regex conditions, which never warn. */
const SILENT = new MatchContext("", undefined);

function filterByConditions(items: unknown[], token: Token, context: MatchContext): unknown[] {
  const conditions = token.conditions as readonly Condition[];
  const kept: unknown[] = [];
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    if (isPhpArray(item) && matchesConditions(item, conditions, context)) kept.push(item);
  }
  return kept;
}

/** `Hash::_matches(data, conditions)`: every condition must hold. */
function matchesConditions(
  data: PhpArray,
  conditions: readonly Condition[],
  context: MatchContext,
): boolean {
  for (const condition of conditions) {
    const found = lookup(data, condition.attr);
    if (condition.op === "") {
      if (found === undefined || found === null) return false;
      continue;
    }
    if (found === undefined) return false;
    let prop = found;
    if (typeof prop === "boolean") {
      prop = condition.valueIsNumeric ? (prop ? "1" : "0") : (prop ? "true" : "false");
    }
    if (condition.isRegex) {
      if (!matchesRegex(prop, condition, context)) return false;
      continue;
    }
    if (!compareCondition(prop, condition)) return false;
  }
  return true;
}

function compareCondition(prop: unknown, condition: Condition): boolean {
  const value = condition.value;
  switch (condition.op) {
    case "=":
      return looseEquals(prop, value);
    case "!=":
      return !looseEquals(prop, value);
    // PHP evaluates `$a > $b` as `$b < $a` and `$a >= $b` as `$b <= $a`.
    case ">":
      return !(looseCompare(prop, value) <= 0);
    case "<":
      return !(looseCompare(value, prop) <= 0);
    case ">=":
      return !(looseCompare(prop, value) < 0);
    case "<=":
      return !(looseCompare(value, prop) < 0);
    default:
      return true;
  }
}

function matchesRegex(prop: unknown, condition: Condition, context: MatchContext): boolean {
  const subject = toPhpString(prop);
  if (subject === undefined) {
    throw new HashPathError(
      context.path,
      `Cannot apply condition "${condition.source}" in path "${context.path}": ` +
        `"${condition.attr}" holds an array, and preg_match() only takes strings`,
    );
  }
  try {
    return compileRegex(condition.value).test(subject);
  } catch (error) {
    if (!(error instanceof RegexError)) throw error;
    context.warn(
      condition.value,
      `Condition "${condition.source}" in path "${context.path}" never matches: ${error.message}`,
      error,
    );
    return false;
  }
}

/** `$data[$key]` for a key given as a string; `undefined` when the key does not exist. */
function lookup(data: PhpArray, key: string): unknown {
  if (Array.isArray(data)) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= data.length) return undefined;
    return String(index) === key ? data[index] : undefined;
  }
  return Object.hasOwn(data, key) ? (data as Record<string, unknown>)[key] : undefined;
}

/** PHP stores a string key that is a canonical int64 as an int. */
function isIntKey(key: string): boolean {
  if (!CANONICAL_INT_KEY.test(key)) return false;
  if (key.length < 19) return true;
  const value = BigInt(key);
  return value <= INT64_MAX && value >= INT64_MIN;
}

function pathText(path: string | number | true): string {
  return typeof path === "string" ? path : toPhpString(path) as string;
}

function requireArray(data: unknown, path: string, verb: string): PhpArray {
  if (isPhpArray(data)) return data;
  const kind = data === null || data === undefined ? "null" : typeof data;
  throw new HashPathError(
    path,
    `Cannot ${verb} path "${path}": the data is ${kind}, not an array or object`,
  );
}

/** `(array)$value`: null is `[]`, a scalar is `[scalar]`, an array stays itself. */
function castToArray(value: unknown): PhpArray {
  if (value === null || value === undefined) return [];
  return isPhpArray(value) ? value : [value];
}

function entriesOf(container: PhpArray): [string, unknown][] {
  if (Array.isArray(container)) return container.map((value, index) => [String(index), value]);
  return Object.entries(container);
}

function copyOf(container: PhpArray): unknown[] | Record<string, unknown> {
  return Array.isArray(container) ? container.slice() : { ...container };
}

/** `$container[$key] = $value` on a fresh copy; a list with a non-index key becomes a map. */
function setKey(
  container: unknown[] | Record<string, unknown> | PhpArray,
  key: string,
  value: unknown,
): unknown[] | Record<string, unknown> {
  const target = container as unknown[] | Record<string, unknown>;
  if (Array.isArray(target)) {
    const index = Number(key);
    if (String(index) === key && Number.isInteger(index) && index >= 0 && index <= target.length) {
      target[index] = value;
      return target;
    }
    const map: Record<string, unknown> = { ...target };
    map[key] = value;
    return map;
  }
  target[key] = value;
  return target;
}

/** `unset($container[$key])` returning a new container; lists close the gap. */
function deleteKey(container: PhpArray, key: string): PhpArray {
  if (lookup(container, key) === undefined) return container;
  if (Array.isArray(container)) return container.filter((_, index) => String(index) !== key);
  const copy = { ...container } as Record<string, unknown>;
  delete copy[key];
  return copy;
}

function insertPlain(
  container: PhpArray,
  parts: readonly string[],
  index: number,
  values: unknown,
): PhpArray {
  const key = parts[index] as string;
  if (index === parts.length - 1) return setKey(copyOf(container), key, values);
  const child = lookup(container, key);
  const next = isPhpArray(child) ? child : [];
  return setKey(copyOf(container), key, insertPlain(next, parts, index + 1, values));
}

function removePlain(container: PhpArray, parts: readonly string[], index: number): PhpArray {
  const key = parts[index] as string;
  if (index === parts.length - 1) return deleteKey(container, key);
  const child = lookup(container, key);
  if (!isPhpArray(child)) return container;
  const next = removePlain(child, parts, index + 1);
  return next === child ? container : setKey(copyOf(container), key, next);
}

/** `array_merge(a, b)`: int keys renumbered in order, string keys overwritten in place. */
function arrayMerge(a: PhpArray, b: PhpArray): PhpArray {
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  const merged = new Map<string, unknown>();
  let nextIndex = 0;
  for (const source of [a, b]) {
    for (const [key, value] of entriesOf(source)) {
      if (isIntKey(key)) merged.set(String(nextIndex++), value);
      else merged.set(key, value);
    }
  }
  if (merged.size === nextIndex) return [...merged.values()];
  return Object.fromEntries(merged);
}
