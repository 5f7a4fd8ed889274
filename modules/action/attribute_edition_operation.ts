/**
 * `attribute_edition_operation` (Attribute edition operation 0.1): MISP's base class of the
 * comment, IDS-flag and distribution operations. On its own it declares no params and does
 * nothing; it is listed so MISP workflows that contain it import and run (reference §2.2).
 * The shared save path lives in `attribute_edition.ts`.
 *
 * @module
 */

import type { WorkflowModule } from "../../engine/module.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";

/** Attribute edition operation: MISP's base class, a no-op that succeeds. */
export const attributeEditionOperation: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "attribute_edition_operation",
    name: "Attribute edition operation",
    version: "0.1",
    description: "Base module for attribute edition operations.",
    icon: "edit",
    expect_misp_core_format: true,
    support_filters: true,
    params: [],
  }),
  exec: () => true,
};
