/**
 * MISP's `reloadRoamingData`: re-fetch the full event from MISP (`GET /events/view/<id>`) and
 * convert it to core format, so the nodes after an action that changed MISP see the new state.
 *
 * @module
 */

import type { JsonObject } from "../../../engine/model.ts";
import { toCoreFormat } from "../../../triggers/core_format.ts";
import type { ModuleContext } from "../../../engine/module.ts";
import { callMisp } from "./misp_operation.ts";
import { eventOf } from "./roaming_event.ts";

/**
 * Replaces the roaming data with the event as MISP now holds it, in core format. In a dry run
 * the read is recorded and the data is left as it is.
 */
export async function reloadRoamingEvent(context: ModuleContext): Promise<void> {
  const id = String(eventOf(context.roaming.getData()).id ?? "");
  const answer = await callMisp<JsonObject>(context, {
    method: "GET",
    path: `/events/view/${id}`,
    summary: `reload event ${id}`,
    details: { event_id: id },
  });
  if (answer === undefined) return;
  context.roaming.setData(toCoreFormat(answer, { trigger: context.workflow.trigger }));
}
