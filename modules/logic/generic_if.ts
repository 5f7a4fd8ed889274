/**
 * `generic-if` (IF :: Generic, v0.2): compares what a hash path extracts with a value
 * (reference §7.1).
 *
 * @module
 */

import type { ModuleContext, WorkflowModule } from "../module.ts";
import { extract, get } from "../../engine/hash_path.ts";
import { evaluateCondition } from "../../engine/conditions.ts";
import { looseEquals, phpEmpty } from "../../engine/php_compare.ts";
import { observable } from "./observation.ts";
import { pathParam } from "./php_values.ts";

/** IF :: Generic: `then` when the condition on the extracted data holds, `else` otherwise. */
export const genericIf: WorkflowModule = {
  descriptor: {
    id: "generic-if",
    name: "IF :: Generic",
    version: "0.2",
    description:
      "Generic IF / ELSE condition block. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.",
    module_type: "logic",
    icon: "code-branch",
    inputs: 1,
    outputs: 2,
    blocking: false,
    expect_misp_core_format: false,
    support_filters: false,
    multiple_output_connection: false,
    html_template: "if",
    enabled_by_default: true,
    params: [
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
      { id: "hash_path", label: "Hash path", type: "hashpath", placeholder: "Attribute.{n}.Tag" },
    ],
  },
  exec(context: ModuleContext): boolean {
    const { operator, value, value_list: valueList } = context.params;
    const path = pathParam("hash_path", context.params.hash_path);
    const data = context.roaming.getData();
    const compared = looseEquals(operator, "in_or") ? valueList : value;
    const single = looseEquals(operator, "equals") || looseEquals(operator, "not_equals");
    const extracted = single
      ? get(data, typeof path === "boolean" ? String(path) : path, [])
      : extract(data, path);
    context.observe("extracted", observable(extracted));
    context.observe("compared_with", observable(compared));
    if (looseEquals(operator, "any_value") && !phpEmpty(extracted)) return true;
    return evaluateCondition(extracted, operator, compared);
  },
};
