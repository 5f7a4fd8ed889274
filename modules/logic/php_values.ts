/**
 * PHP value conversions the logic modules rely on (`intval`, `count`).
 *
 * @module
 */

import { isNumericString, isPhpArray, phpEmpty, phpValues } from "../../engine/php_compare.ts";

/** PHP 8 `intval`: numeric strings convert, other strings take their leading integer or 0. */
export function phpIntval(value: unknown): number {
  if (typeof value === "number") return Number.isFinite(value) ? Math.trunc(value) : 0;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string") {
    if (isNumericString(value)) {
      const number = Number(value.trim());
      return Number.isFinite(number) ? Math.trunc(number) : 0;
    }
    const leading = /^\s*[+-]?\d+/.exec(value);
    return leading ? Number.parseInt(leading[0], 10) : 0;
  }
  if (Array.isArray(value)) return value.length > 0 ? 1 : 0;
  if (value !== null && typeof value === "object") return Object.keys(value).length > 0 ? 1 : 0;
  return 0;
}

/** PHP `count` of an extracted value (lists and objects; anything else counts as 0 or 1). */
export function phpCount(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  if (isPhpArray(value)) return Object.keys(value).length;
  return value === null || value === undefined ? 0 : 1;
}

/** A hash-path param as `Hash` takes it; a list or map there is a misconfigured node. */
export function pathParam(name: string, value: unknown): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return value;
  }
  throw new TypeError(`Param "${name}" must be a hash path string, got ${JSON.stringify(value)}`);
}

/** A picker param as a list: empty gives none, a list or map its values, a scalar itself. */
export function pickerValues(value: unknown): readonly unknown[] {
  if (phpEmpty(value)) return [];
  return isPhpArray(value) ? phpValues(value) : [value];
}
