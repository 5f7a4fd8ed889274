/**
 * `Module_attribute_comment_operation` (Attribute comment operation 0.1; MISP's id keeps the
 * class-name form): writes the `comment` param, rendered once against the whole roaming data, on
 * every matching attribute (reference §2.2, §9.4).
 *
 * @module
 */

import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { editMatchingAttributes } from "./lib/attribute_edition.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";

/** Attribute comment operation: writes one rendered comment on every matching attribute. */
export const attributeCommentOperation: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "Module_attribute_comment_operation",
    name: "Attribute comment operation",
    version: "0.1",
    description: "Set the comment of the selected attributes.",
    icon: "edit",
    expect_misp_core_format: true,
    support_filters: true,
    params: [{
      id: "comment",
      label: "Comment",
      type: "textarea",
      placeholder: "Comment to be set",
      jinja_supported: true,
    }],
  }),
  exec: (context: ModuleContext) =>
    editMatchingAttributes(context, { comment: String(context.params.comment ?? "") }),
};
