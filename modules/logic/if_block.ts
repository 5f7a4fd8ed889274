/**
 * The descriptor fields every IF module shares, as MISP's logic base class sets them: one input,
 * `then` on output 1 and `else` on output 2, drawn with the "if" template.
 *
 * @module
 */

import type { ModuleDescriptor } from "../../engine/model.ts";

/** Descriptor fields common to every IF module; each module adds its own id, format and params. */
export const IF_BLOCK = {
  module_type: "logic",
  icon: "code-branch",
  inputs: 1,
  outputs: 2,
  blocking: false,
  support_filters: false,
  multiple_output_connection: false,
  html_template: "if",
} as const satisfies Partial<ModuleDescriptor>;
