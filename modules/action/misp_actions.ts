/**
 * Actions that change MISP through its REST API (tags, attributes, events, warninglists…).
 *
 * @module
 */

import type { WorkflowModule } from "../module.ts";

/** Every MISP-operation action module, listed once for the registry. */
export const MISP_ACTIONS: WorkflowModule[] = [];
