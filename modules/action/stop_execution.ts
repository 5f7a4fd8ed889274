/**
 * `stop-execution` (Stop execution, v0.2): the blocking module that vetoes the operation with a
 * message (reference §6.6).
 *
 * @module
 */

import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { phpEmpty } from "../../engine/php_compare.ts";

/** The message MISP shows when the node has none. */
export const DEFAULT_STOP_MESSAGE = "Execution stopped";

/** Stop execution: always fails with its message, which aborts the walk (outcome `blocked`). */
export const stopExecution: WorkflowModule = {
  descriptor: {
    id: "stop-execution",
    name: "Stop execution",
    version: "0.2",
    description:
      "Essentially stops the execution for blocking workflows. Do nothing for non-blocking ones",
    module_type: "action",
    icon: "ban",
    inputs: 1,
    outputs: 0,
    blocking: true,
    expect_misp_core_format: false,
    support_filters: false,
    multiple_output_connection: false,
    enabled_by_default: true,
    params: [
      {
        id: "message",
        label: "Stop message",
        type: "input",
        default: DEFAULT_STOP_MESSAGE,
        placeholder: DEFAULT_STOP_MESSAGE,
        jinja_supported: true,
      },
    ],
  },
  exec(context: ModuleContext): boolean {
    const message = context.params.message;
    context.errors.push(phpEmpty(message) ? DEFAULT_STOP_MESSAGE : String(message));
    return false;
  },
};
