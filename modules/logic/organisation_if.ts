/**
 * `organisation-if` (IF :: Organisation, v0.2): tests the owner or creator organisation of the
 * event (reference §7.4, errata 28).
 *
 * @module
 */

import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { IF_BLOCK } from "./if_block.ts";
import { get } from "../../engine/hash_path.ts";
import { evaluateCondition } from "../../engine/conditions.ts";
import { looseEquals } from "../../engine/php_compare.ts";
import { phpIntval, pickerValues } from "./php_values.ts";

/** IF :: Organisation: `then` when the event's organisation is (or is not) among the selected. */
export const organisationIf: WorkflowModule = {
  descriptor: {
    id: "organisation-if",
    name: "IF :: Organisation",
    version: "0.2",
    description:
      "Organisation IF / ELSE condition block. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.",
    ...IF_BLOCK,
    expect_misp_core_format: true,
    enabled_by_default: true,
    params: [
      {
        id: "org_type",
        label: "Organisation Type",
        type: "select",
        options: { org: "Owner Organisation", orgc: "Creator Organisation" },
        default: "orgc",
      },
      {
        id: "condition",
        label: "Condition",
        type: "select",
        default: "in",
        options: { in: "Is any of (OR)", not_in: "Is not any of (OR)" },
      },
      {
        id: "org_id",
        label: "",
        type: "picker",
        multiple: true,
        default: [1],
        placeholder: "Pick an organisation",
      },
    ],
  },
  exec(context: ModuleContext): boolean {
    const { org_type: orgType, condition, org_id: orgIds } = context.params;
    const data = context.roaming.getData();
    let operator = condition;
    if (looseEquals(operator, "equals")) operator = "in";
    else if (looseEquals(operator, "not_equals")) operator = "not_in";
    const selected = pickerValues(orgIds);
    const path = looseEquals(orgType, "orgc") ? "Event.orgc_id" : "Event.org_id";
    const org = phpIntval(get(data, path));
    context.observe("organisation_id", org);
    context.observe("selected", selected);
    return evaluateCondition(selected, operator, org);
  },
};
