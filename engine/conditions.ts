/**
 * MISP's condition operators (`WorkflowBaseModule::evaluateCondition` and
 * `getItemsMatchingCondition`), with PHP's loose comparisons, for IF modules, filters and node
 * filters.
 *
 * @module
 */

import { extract, type ExtractOptions, HashPathError, type HashPathInput } from "./hash_path.ts";
import {
  inArrayLoose,
  isPhpArray,
  looseCompare,
  looseEquals,
  type PhpArray,
  phpEmpty,
  phpValues,
} from "./php_compare.ts";

/** The operators MISP's engine knows; anything else evaluates to false. */
export type ConditionOperator =
  | "in"
  | "not_in"
  | "equals"
  | "not_equals"
  | "any_value"
  | "in_or"
  | "in_and"
  | "not_in_or"
  | "not_in_and";

/** A key of a PHP array: a list index, or a map key. */
export type PhpKey = number | string;

/** Options of {@link itemsMatchingCondition} and {@link keysMatchingCondition}. */
export type MatchingOptions = ExtractOptions;

/** In the order PHP's if/elseif chain tests them, which matters for loosely equal operators. */
const OPERATORS: readonly ConditionOperator[] = [
  "in",
  "not_in",
  "equals",
  "not_equals",
  "in_or",
  "in_and",
  "not_in_or",
  "not_in_and",
  "any_value",
];
const EQUALITY_OPERATORS: readonly string[] = ["equals", "not_equals"];
const FIRST_NON_ASCII = 0x80;
const SURROGATE_ESCAPE_BASE = 0xdc00;
const encoder = new TextEncoder();

/**
 * `evaluateCondition(data, operator, value)`: `data` is the extracted side, `value` the configured
 * one. `in`/`not_in` need `data` to be an array, `equals`/`not_equals` need it not to be; the list
 * operators need both to be arrays and compare the items of `data` found in `value` against
 * `value` (sorted for `in_and`, positionally for `not_in_and`). The operator itself is compared
 * loosely, so `true` acts as `in`; `any_value` and unknown operators give false.
 */
export function evaluateCondition(data: unknown, operator: unknown, value: unknown): boolean {
  switch (resolveOperator(operator)) {
    case "in":
      return isPhpArray(data) && inArrayLoose(data, value);
    case "not_in":
      return isPhpArray(data) && !inArrayLoose(data, value);
    case "equals":
      return !isPhpArray(data) && looseEquals(data, value);
    case "not_equals":
      return !isPhpArray(data) && !looseEquals(data, value);
    case "in_or":
      return isPhpArray(data) && isPhpArray(value) && matchingValues(data, value).length > 0;
    case "not_in_or":
      return isPhpArray(data) && isPhpArray(value) && matchingValues(data, value).length === 0;
    case "in_and":
      if (!isPhpArray(data) || !isPhpArray(value)) return false;
      return looseEquals(sortedPhp(matchingValues(data, value)), sortedPhp(phpValues(value)));
    case "not_in_and":
      if (!isPhpArray(data) || !isPhpArray(value)) return false;
      return !looseEquals(matchingValues(data, value), phpValues(value));
    default:
      return false;
  }
}

/**
 * `getItemsMatchingCondition(items, value, operator, path)`: the items whose value at `path`
 * satisfies the operator, as a dense list in their original order. With `equals`/`not_equals`
 * only `sub[0]` counts (PHP offset access: the first character of a string, `null` for a map
 * without key 0 or a number); `any_value` keeps items whose extraction is not empty. An empty
 * `path` (`""`, `"0"`, `null`) tests the item itself.
 *
 * @throws {HashPathError} when `path` is not empty and an item is not an array (PHP's TypeError),
 * or a regex condition meets an array.
 */
export function itemsMatchingCondition(
  items: PhpArray,
  value: unknown,
  operator: unknown,
  path: HashPathInput,
  options?: MatchingOptions,
): unknown[] {
  const kept: unknown[] = [];
  forEachMatch(items, { value, operator, path, options }, (_, item) => kept.push(item));
  return kept;
}

/**
 * The keys of the items {@link itemsMatchingCondition} keeps (list indexes as numbers, map keys as
 * strings), for callers that must keep PHP's original keys.
 *
 * @throws {HashPathError} as {@link itemsMatchingCondition}.
 */
export function keysMatchingCondition(
  items: PhpArray,
  value: unknown,
  operator: unknown,
  path: HashPathInput,
  options?: MatchingOptions,
): PhpKey[] {
  const kept: PhpKey[] = [];
  forEachMatch(items, { value, operator, path, options }, (key) => kept.push(key));
  return kept;
}

interface MatchRequest {
  readonly value: unknown;
  readonly operator: unknown;
  readonly path: HashPathInput;
  readonly options: MatchingOptions | undefined;
}

function forEachMatch(
  items: PhpArray,
  request: MatchRequest,
  keep: (key: PhpKey, item: unknown) => void,
): void {
  const { value, operator, path } = request;
  const options = onceEach(request.options);
  const takeFirst = inArrayLoose(EQUALITY_OPERATORS, operator);
  const anyValue = looseEquals(operator, "any_value");
  const hasPath = !phpEmpty(path);
  const visit = (key: PhpKey, item: unknown): void => {
    let sub: unknown = hasPath ? extractFromItem(item, key, path, options) : item;
    if (takeFirst && !phpEmpty(sub)) sub = offsetZero(sub);
    if ((anyValue && !phpEmpty(sub)) || evaluateCondition(sub, operator, value)) keep(key, item);
  };
  if (Array.isArray(items)) {
    for (let index = 0; index < items.length; index++) visit(index, items[index]);
  } else {
    for (const key of Object.keys(items)) visit(key, (items as Record<string, unknown>)[key]);
  }
}

/** Reports each distinct warning once per call, however many items run into it. */
function onceEach(options: MatchingOptions | undefined): MatchingOptions | undefined {
  const onWarning = options?.onWarning;
  if (onWarning === undefined) return options;
  const seen = new Set<string>();
  return {
    ...options,
    onWarning: (warning) => {
      if (seen.has(warning.message)) return;
      seen.add(warning.message);
      onWarning(warning);
    },
  };
}

function extractFromItem(
  item: unknown,
  key: PhpKey,
  path: HashPathInput,
  options: MatchingOptions | undefined,
): PhpArray {
  if (!isPhpArray(item)) {
    const kind = item === null || item === undefined ? "null" : typeof item;
    throw new HashPathError(
      String(path),
      `Cannot match item "${key}" against path "${path}": the item is ${kind}, not an array ` +
        `or object`,
    );
  }
  return extract(item, path, options);
}

/**
 * PHP's `$sub[0]` on a non-empty value: key 0 of an array (`null` when absent), the first byte of
 * a string, `null` for numbers and bools. A first byte that is not ASCII has no JS string of its
 * own; it becomes a lone low surrogate (Python's surrogateescape), which equals no real text.
 */
function offsetZero(sub: unknown): unknown {
  if (isPhpArray(sub)) {
    if (Array.isArray(sub)) return sub[0] ?? null;
    return Object.hasOwn(sub, "0") ? (sub as Record<string, unknown>)["0"] : null;
  }
  if (typeof sub === "string") {
    const code = sub.charCodeAt(0);
    if (code < FIRST_NON_ASCII) return sub[0];
    const firstByte = encoder.encode(String.fromCodePoint(sub.codePointAt(0) as number))[0];
    return String.fromCharCode(SURROGATE_ESCAPE_BASE + (firstByte as number));
  }
  return null;
}

function resolveOperator(operator: unknown): ConditionOperator | undefined {
  if (typeof operator === "string") {
    return (OPERATORS as readonly string[]).includes(operator)
      ? operator as ConditionOperator
      : undefined;
  }
  return OPERATORS.find((name) => looseEquals(operator, name));
}

/** `array_filter($data, fn ($item) => in_array($item, $value))`, values only. */
function matchingValues(data: PhpArray, value: PhpArray): unknown[] {
  const matching: unknown[] = [];
  const values = phpValues(data);
  for (let index = 0; index < values.length; index++) {
    if (inArrayLoose(value, values[index])) matching.push(values[index]);
  }
  return matching;
}

/** PHP 8 `sort()` (stable, standard comparison) on a copy. */
function sortedPhp(values: readonly unknown[]): unknown[] {
  return values.slice().sort(looseCompare);
}
