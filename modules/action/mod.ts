/**
 * Every action module, listed once for the registry.
 *
 * @module
 */

import type { WorkflowModule } from "../../engine/module.ts";
import { stopExecution } from "./stop_execution.ts";
import { OUTBOUND_ACTIONS } from "./outbound_actions.ts";
import { MISP_ACTIONS } from "./misp_actions.ts";
import { requireApproval } from "./require_approval.ts";

/** MISP's action modules plus Flowgate's, `stop-execution` first. */
export const ACTION_MODULES: WorkflowModule[] = [
  stopExecution,
  ...OUTBOUND_ACTIONS,
  ...MISP_ACTIONS,
  requireApproval,
];
