/**
 * `generic-if` (IF :: Generic, v0.2): compares what a hash path extracts with a value
 * (reference §7.1).
 *
 * @module
 */

import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { IF_BLOCK } from "./if_block.ts";
import { extract, get } from "../../engine/hash_path.ts";
import { evaluateCondition } from "../../engine/conditions.ts";
import { looseEquals, phpEmpty } from "../../engine/php_compare.ts";
import { observable } from "./observation.ts";
import { pathParam } from "./php_values.ts";
import { CONDITION_PARAMS, conditionValue } from "./condition_params.ts";

/** IF :: Generic: `then` when the condition on the extracted data holds, `else` otherwise. */
export const genericIf: WorkflowModule = {
  descriptor: {
    id: "generic-if",
    name: "IF :: Generic",
    version: "0.2",
    description:
      "Generic IF / ELSE condition block. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.",
    ...IF_BLOCK,
    expect_misp_core_format: false,
    enabled_by_default: true,
    params: [
      ...CONDITION_PARAMS,
      { id: "hash_path", label: "Hash path", type: "hashpath", placeholder: "Attribute.{n}.Tag" },
    ],
  },
  exec(context: ModuleContext): boolean {
    const { operator } = context.params;
    const path = pathParam("hash_path", context.params.hash_path);
    const data = context.roaming.getData();
    const compared = conditionValue(context.params);
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
