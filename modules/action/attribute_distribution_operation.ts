/**
 * `attribute_distribution_operation` (Attribute distribution operation 0.1, 2.4-develop): sets
 * `distribution` (and `sharing_group_id` for 4) on the matching attributes (reference §2.2).
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { editMatchingAttributes } from "./lib/attribute_edition.ts";
import { ATTRIBUTE_DISTRIBUTION_OPTIONS, sharingGroupId } from "./lib/distribution_options.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";

/** Attribute distribution operation: sets the distribution of the matching attributes. */
export const attributeDistributionOperation: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "attribute_distribution_operation",
    name: "Attribute distribution operation",
    version: "0.1",
    description: "Set the distribution of the selected attributes.",
    icon: "edit",
    expect_misp_core_format: true,
    support_filters: true,
    params: [
      {
        id: "distribution",
        label: "Distribution",
        type: "select",
        options: ATTRIBUTE_DISTRIBUTION_OPTIONS,
        default: "0",
      },
      {
        id: "sharing_group_id",
        label: "Sharing Groups",
        type: "picker",
        default: [],
        display_on: { distribution: "4" },
      },
    ],
  }),
  exec: (context: ModuleContext) => {
    const distribution = String(context.params.distribution);
    const changes: JsonObject = { distribution };
    if (distribution === "4") {
      changes.sharing_group_id = sharingGroupId(context.params.sharing_group_id);
    }
    return editMatchingAttributes(context, changes);
  },
};
