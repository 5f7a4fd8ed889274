/**
 * `attribute_ids_flag_operation` (Attribute IDS Flag operation 0.1): sets or clears `to_ids` on
 * the matching attributes (reference §2.2).
 *
 * @module
 */

import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { editMatchingAttributes } from "./lib/attribute_edition.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";

/** Attribute IDS Flag operation: `add` sets `to_ids`, `remove` clears it. */
export const attributeIdsFlagOperation: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "attribute_ids_flag_operation",
    name: "Attribute IDS Flag operation",
    version: "0.1",
    description: "Toggle or remove the IDS flag on selected attributes.",
    icon: "edit",
    expect_misp_core_format: true,
    support_filters: true,
    params: [{
      id: "action",
      label: "Action",
      type: "select",
      options: { add: "Toggle IDS flag", remove: "Remove IDS flag" },
      default: "add",
    }],
  }),
  exec: (context: ModuleContext) =>
    editMatchingAttributes(context, { to_ids: context.params.action !== "remove" }),
};
