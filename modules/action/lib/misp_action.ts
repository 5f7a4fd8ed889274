/**
 * The descriptor shape MISP's action modules share: one input, one output, not blocking, a single
 * output connection (reference §2.1).
 *
 * @module
 */

import type { ModuleDescriptor } from "../../../engine/model.ts";

/** The fields that differ between action modules. */
export type MispActionFields =
  & Pick<
    ModuleDescriptor,
    "id" | "name" | "version" | "description" | "icon" | "params"
  >
  & Partial<
    Pick<
      ModuleDescriptor,
      "expect_misp_core_format" | "support_filters" | "icon_class" | "enabled_by_default"
    >
  >;

/** A full action descriptor from the fields that differ. */
export function mispActionDescriptor(fields: MispActionFields): ModuleDescriptor {
  return {
    module_type: "action",
    inputs: 1,
    outputs: 1,
    blocking: false,
    expect_misp_core_format: false,
    support_filters: false,
    multiple_output_connection: false,
    ...fields,
  };
}
