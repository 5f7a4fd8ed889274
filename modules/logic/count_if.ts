/**
 * `count-if` (IF :: Count): counts what a hash path extracts and compares the count with a value
 * using PHP 8 comparisons (reference §7.7, errata 1 and 26).
 *
 * @module
 */

import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { IF_BLOCK } from "./if_block.ts";
import { extract } from "../../engine/hash_path.ts";
import { looseCompare, looseEquals } from "../../engine/php_compare.ts";
import { pathParam, phpCount } from "./php_values.ts";

/** IF :: Count: `then` when `count(extract(data, selector)) <operator> value`. */
export const countIf: WorkflowModule = {
  descriptor: {
    id: "count-if",
    name: "IF :: Count",
    version: "0.1",
    description:
      "Count IF / ELSE condition block. It counts the amount of entry selected by the provided hashpath. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.",
    ...IF_BLOCK,
    expect_misp_core_format: false,
    params: [
      {
        id: "selector",
        label: "Data selector to count",
        type: "hashpath",
        placeholder: "Event.Tag.{n}.name",
      },
      {
        id: "operator",
        label: "Condition",
        type: "select",
        default: "equals",
        options: {
          equals: "Equals to",
          not_equals: "Not Equals to",
          greater: "Greater than",
          greater_equals: "Greater or equals than",
          less: "Less than",
          less_equals: "Less or equals than",
        },
      },
      { id: "value", label: "Value", type: "input", placeholder: "50" },
    ],
  },
  exec(context: ModuleContext): boolean {
    const { operator, value } = context.params;
    const selector = pathParam("selector", context.params.selector);
    const amount = phpCount(extract(context.roaming.getData(), selector));
    context.observe("count", amount);
    if (looseEquals(operator, "equals")) return looseEquals(amount, value);
    if (looseEquals(operator, "not_equals")) return !looseEquals(amount, value);
    if (looseEquals(operator, "greater")) return looseCompare(value, amount) < 0;
    if (looseEquals(operator, "greater_equals")) return looseCompare(value, amount) <= 0;
    if (looseEquals(operator, "less")) return looseCompare(amount, value) < 0;
    if (looseEquals(operator, "less_equals")) return looseCompare(amount, value) <= 0;
    return false;
  },
};
