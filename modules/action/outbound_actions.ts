/**
 * Outbound notification and export actions (webhook, Teams, Telegram, Splunk, ZMQ, mail, chat).
 *
 * @module
 */

import type { WorkflowModule } from "../module.ts";

/** Every outbound action module, listed once for the registry. */
export const OUTBOUND_ACTIONS: WorkflowModule[] = [];
