/**
 * `reload-full-event` (Reload full Event 0.1): re-fetches the event from MISP and replaces the
 * roaming data with it, when the workflow's trigger provides MISP core format (reference §2.2).
 *
 * @module
 */

import { getTrigger } from "../../triggers/catalogue.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { reloadRoamingEvent } from "./lib/event_reload.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { requireMisp } from "./lib/misp_operation.ts";

/** Reload full Event: replaces the roaming data with the event as MISP now stores it. */
export const reloadFullEvent: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "reload-full-event",
    name: "Reload full Event",
    version: "0.1",
    description:
      "Reload the Event from the database. Useful when the Event has been modified by a previous module.",
    icon: "sync",
    expect_misp_core_format: true,
    params: [],
  }),
  exec: execReloadFullEvent,
};

async function execReloadFullEvent(context: ModuleContext): Promise<boolean> {
  if (!getTrigger(context.workflow.trigger)?.descriptor.misp_core_format) {
    context.observe("reload", "skipped: the trigger does not provide MISP core format");
    return true;
  }
  requireMisp(context);
  await reloadRoamingEvent(context);
  return true;
}
