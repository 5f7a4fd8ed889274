/**
 * Python's sequence operations that Jinja2 templates use and nunjucks lacks: slices
 * (`items[1:3]`, `text[::-1]`) and unpacking (`{% set a, b = pair %}`). A slice is never longer
 * than what it slices, and it is counted in the render's budget all the same.
 *
 * @module
 */

import type { RenderBudget } from "./template_budget.ts";
import { plainText, pythonTypeName } from "./template_values.ts";

/** A slice bound: an integer (booleans count as 0 and 1), or null for "left out". */
function sliceIndex(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value === "boolean") return Number(value);
  if (typeof value === "number" && Number.isInteger(value)) return value;
  throw new TypeError(
    `slice indices must be integers or None, got ${pythonTypeName(value)} (as in Python)`,
  );
}

/** Where a slice starts, its step and how many items it takes. */
interface SliceRange {
  from: number;
  step: number;
  count: number;
}

/** The items `[start:stop:step]` selects in a sequence of `length` items, as Python's. */
function sliceRange(length: number, bounds: unknown[]): SliceRange {
  const [start, stop, stepValue] = bounds.map(sliceIndex);
  const step = stepValue ?? 1;
  if (step === 0) throw new RangeError("slice step cannot be zero (as in Python)");
  const clamp = (index: number): number => {
    if (index < 0) {
      const fromEnd = index + length;
      return fromEnd < 0 ? (step < 0 ? -1 : 0) : fromEnd;
    }
    return index >= length ? (step < 0 ? length - 1 : length) : index;
  };
  const from = start === null || start === undefined ? (step < 0 ? length - 1 : 0) : clamp(start);
  const to = stop === null || stop === undefined ? (step < 0 ? -1 : length) : clamp(stop);
  const count = Math.max(0, Math.ceil((to - from) / step));
  return { from, step, count };
}

/** The `count` items from `from`, `step` apart: `slice` when they are contiguous. */
function pick(items: string | unknown[], range: SliceRange): string | unknown[] {
  const { from, step, count } = range;
  if (step === 1) {
    return typeof items === "string"
      ? items.slice(from, from + count)
      : items.slice(from, from + count);
  }
  return Array.from({ length: count }, (_, index) => items[from + index * step]);
}

/**
 * `target[start:stop:step]` as Jinja2: a list or a string is sliced as in Python (code points,
 * negative bounds from the end, a negative step backwards); anything else gives undefined, as
 * Jinja2's sandbox renders `none[1:]` as ''. What it builds is counted before it is built.
 *
 * @throws {TypeError} when a bound is not an integer or none
 * @throws {RangeError} when the step is 0
 */
export function sliceValue(target: unknown, bounds: unknown[], budget: RenderBudget): unknown {
  const text = plainText(target);
  if (text === undefined) {
    if (!Array.isArray(target)) return undefined;
    const range = sliceRange(target.length, bounds);
    budget.addBuilt("A slice", range.count, { unit: "list items" });
    return pick(target, range);
  }
  const characters = /[\uD800-\uDFFF]/.test(text) ? Array.from(text) : undefined;
  const range = sliceRange(characters?.length ?? text.length, bounds);
  budget.addBuilt("A slice", range.count);
  const picked = pick(characters ?? text, range);
  return typeof picked === "string" ? picked : picked.join("");
}

/**
 * The `count` values `{% set a, b = value %}` assigns: a list's items, a string's characters or
 * a dict's keys, as Python unpacks them.
 *
 * @throws {TypeError} when the value cannot be unpacked, or has more or fewer than `count` items
 */
export function unpackValues(value: unknown, count: number): unknown[] {
  const text = plainText(value);
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (text !== undefined) {
    // A string has at least half as many code points as UTF-16 units.
    if (text.length > 2 * count) {
      throw new TypeError(`too many values to unpack (expected ${count})`);
    }
    items = Array.from(text);
  } else if (value !== null && typeof value === "object") items = Object.keys(value);
  else throw new TypeError(`cannot unpack non-iterable ${pythonTypeName(value)} object`);
  if (items.length > count) {
    throw new TypeError(`too many values to unpack (expected ${count})`);
  }
  if (items.length < count) {
    throw new TypeError(`not enough values to unpack (expected ${count}, got ${items.length})`);
  }
  return items;
}
