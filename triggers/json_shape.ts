/**
 * Small checks on the shape of JSON data MISP sends, with PHP's notions of "set" and "empty" that
 * MISP's normalisation code relies on, and the one-line failure messages normalisation gives.
 *
 * @module
 */

import { exceedsDataDepth } from "../engine/data_depth.ts";
import { MAX_DATA_DEPTH } from "../engine/limits.ts";
import type { JsonObject } from "../engine/model.ts";
import { NormalizationError } from "./normalization_error.ts";

const MAX_LISTED_KEYS = 8;

/** True for a JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** PHP `isset()` on a decoded JSON value: present and not null. */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** PHP `empty()` on a decoded JSON value: null, false, 0, "", "0", [] and {} are empty. */
export function isPhpEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return true;
  if (value === 0 || value === "" || value === "0") return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object") {
    for (const _key in value) return false;
    return true;
  }
  return false;
}

/** Names what a value is, for messages: `an array`, `a string`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return typeof value === "undefined" ? "nothing" : `a ${typeof value}`;
}

/** Lists an object's keys for a message: `got keys "foo", "bar"` or `got no keys`. */
export function describeKeys(value: JsonObject): string {
  const keys = Object.keys(value);
  if (keys.length === 0) return "got no keys";
  const shown = keys.slice(0, MAX_LISTED_KEYS).map((key) => JSON.stringify(key)).join(", ");
  return `got keys ${shown}${keys.length > MAX_LISTED_KEYS ? ", …" : ""}`;
}

/** A shallow copy of `value` without `keys`; a plain spread when none of them is present. */
export function withoutKeys(value: JsonObject, keys: readonly string[]): JsonObject {
  if (!keys.some((key) => key in value)) return { ...value };
  const copy: JsonObject = {};
  for (const key in value) {
    if (!keys.includes(key)) copy[key] = value[key];
  }
  return copy;
}

/** Builds the normalisation error for `trigger` (or for a bare core-format conversion). */
export function normalizationFailure(
  trigger: string | undefined,
  detail: string,
  options?: ErrorOptions,
): NormalizationError {
  const subject = trigger === undefined
    ? "Cannot normalise data to MISP core format"
    : `Cannot normalise data for trigger ${JSON.stringify(trigger)}`;
  return new NormalizationError(`${subject}: ${detail}`, {
    ...options,
    ...(trigger === undefined ? {} : { trigger }),
  });
}

/**
 * Returns `value` as a JSON object, or throws the normalisation error saying what it was. Data
 * nested deeper than `MAX_DATA_DEPTH` is refused here, at the entry of every normalisation, so
 * no later recursive walk (cloning, serialising, storing a run) can overflow the stack on it.
 *
 * @throws {NormalizationError} when `value` is not an object or nests too deeply.
 */
export function requireObject(value: unknown, trigger: string | undefined): JsonObject {
  if (!isPlainObject(value)) {
    throw normalizationFailure(trigger, `expected a JSON object, got ${describeValue(value)}`);
  }
  assertDataDepth(value, trigger);
  return value;
}

/**
 * Refuses MISP data nested deeper than `MAX_DATA_DEPTH` objects and lists (real events nest about
 * ten). The check is iterative: it never overflows the stack, however deep the data.
 *
 * @throws {NormalizationError} naming the limit.
 */
export function assertDataDepth(value: unknown, trigger: string | undefined): void {
  if (!exceedsDataDepth(value, MAX_DATA_DEPTH)) return;
  throw normalizationFailure(
    trigger,
    `the data is nested deeper than the limit of ${MAX_DATA_DEPTH} levels`,
  );
}
