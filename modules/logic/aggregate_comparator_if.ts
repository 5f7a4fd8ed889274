/**
 * `aggregate_comparator_if` (IF :: Aggregate Comparator 0.3, newer than MISP 2.5.1): extracts a
 * hash path, drops nulls, turns each value into a float (PHP `floatval`), aggregates them (count,
 * sum, average, minimum, maximum, unique count, median) and compares the result with the value
 * through MISP's `evaluateCondition`.
 *
 * MISP quirks copied: that `evaluateCondition` knows no `greater`/`less` operators (in every MISP
 * base class indexed), so those, and `in`/`not_in` on a single number, take the else branch; only
 * `equals` and `not_equals` compare, loosely. An unknown aggregation compares `false`. Minimum
 * and maximum of nothing are a PHP `ValueError` that crashes MISP's request: the node fails with
 * a clear error instead.
 *
 * @module
 */

import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { evaluateCondition } from "../../engine/conditions.ts";
import { extract } from "../../engine/hash_path.ts";
import { isPhpArray, phpValues } from "../../engine/php_compare.ts";
import { IF_BLOCK } from "./if_block.ts";
import { pathParam } from "./php_values.ts";

const AGGREGATIONS: Record<string, { label: string; aggregate(values: number[]): unknown }> = {
  count: { label: "Count", aggregate: (values) => values.length },
  sum: { label: "Sum", aggregate: sum },
  avg: {
    label: "Average",
    aggregate: (values) => values.length > 0 ? sum(values) / values.length : 0,
  },
  min: { label: "Minimum", aggregate: (values) => nonEmpty("min", values).reduce(lower) },
  max: { label: "Maximum", aggregate: (values) => nonEmpty("max", values).reduce(higher) },
  unique_count: { label: "Unique count", aggregate: (values) => new Set(values).size },
  median: { label: "Median", aggregate: median },
};

/** IF :: Aggregate Comparator: `then` when the aggregate of a field satisfies the condition. */
export const aggregateComparatorIf: WorkflowModule = {
  descriptor: {
    id: "aggregate_comparator_if",
    name: "IF :: Aggregate Comparator",
    version: "0.3",
    description: "Computes an aggregate over a field, then evaluates rhe result.",
    ...IF_BLOCK,
    expect_misp_core_format: false,
    params: [
      {
        id: "aggregation_path",
        label: "Aggregation Field Path",
        type: "hashpath",
        placeholder: "Attribute.{n}.Tag",
      },
      {
        id: "aggregation_type",
        label: "Aggregation type",
        type: "select",
        default: "count",
        options: Object.fromEntries(
          Object.entries(AGGREGATIONS).map(([id, { label }]) => [id, label]),
        ),
      },
      {
        id: "operator",
        label: "Operator",
        type: "select",
        default: "greater",
        options: {
          equals: "Equals",
          not_equals: "Not equals",
          greater: "Greater than",
          greater_equals: "Greater or equal than",
          less: "Less than",
          less_equals: "Less or equal than",
          in: "In",
          not_in: "Not in",
        },
      },
      { id: "value", label: "Value", type: "input", placeholder: "42" },
    ],
  },
  exec(context: ModuleContext): boolean {
    const { params } = context;
    const path = pathParam("aggregation_path", params.aggregation_path);
    const extracted = extract(context.roaming.getData(), path);
    const values = phpValues(extracted).filter((value) => value !== null).map(phpFloatval);
    const type = String(params.aggregation_type);
    const aggregation = Object.hasOwn(AGGREGATIONS, type) ? AGGREGATIONS[type] : undefined;
    let aggregated: unknown = false;
    if (aggregation) aggregated = aggregation.aggregate(values);
    else context.errors.push(`Unknown aggregation type: ${type}`);
    context.observe("values", values);
    context.observe("aggregate", aggregated);
    return evaluateCondition(aggregated, params.operator, params.value);
  },
};

/**
 * PHP 8 `floatval`: numbers as they are, booleans 0/1, strings their leading number (`"12abc"` is
 * 12, `"abc"` 0), arrays 1 when not empty.
 */
export function phpFloatval(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string") {
    const leading = /^[ \t\n\r\v\f]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(value);
    return leading ? Number(leading[0].trim()) : 0;
  }
  if (isPhpArray(value)) return phpValues(value).length > 0 ? 1 : 0;
  return 0;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function lower(a: number, b: number): number {
  return b < a ? b : a;
}

function higher(a: number, b: number): number {
  return b > a ? b : a;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle] as number
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function nonEmpty(name: string, values: number[]): number[] {
  if (values.length > 0) return values;
  throw new RangeError(
    `Cannot aggregate "${name}" of no values: the path extracted nothing (MISP's ${name}() fails on an empty list)`,
  );
}
