/**
 * The value/operator params MISP's generic IF and generic filter both offer, and the value they
 * compare with (reference §7.1, §6.8.2).
 *
 * @module
 */

import type { ParamDescriptor } from "../../engine/model.ts";
import { looseEquals } from "../../engine/php_compare.ts";

/** `value`, `value_list` and `operator`, listed in MISP's order (the hash path differs per module). */
export const CONDITION_PARAMS: readonly ParamDescriptor[] = [
  {
    id: "value",
    label: "Value",
    type: "input",
    placeholder: "tlp:red",
    display_on: { operator: ["in", "not_in", "equals", "not_equals"] },
  },
  {
    id: "value_list",
    label: "Value list",
    type: "picker",
    picker_create_new: true,
    placeholder: "['ip-src', 'ip-dst']",
    display_on: { operator: "in_or" },
  },
  {
    id: "operator",
    label: "Operator",
    type: "select",
    default: "in",
    options: {
      in: "In",
      not_in: "Not in",
      equals: "Equals",
      not_equals: "Not equals",
      any_value: "Any value",
      in_or: "Any value from",
    },
  },
];

/** The value the condition compares with: `value_list` for `in_or`, `value` otherwise. */
export function conditionValue(params: Record<string, unknown>): unknown {
  return looseEquals(params.operator, "in_or") ? params.value_list : params.value;
}
