/**
 * `publish-event` (Publish Event 0.1): publishes `Event.id` through `POST /events/publish/<id>`
 * (reference §2.2, §3.5). MISP then runs its own `event-publish` workflow on it, which may call
 * Flowgate back; the server's gate lets such a re-publication through once.
 *
 * @module
 */

import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { callMisp, requireMisp } from "./lib/misp_operation.ts";
import { eventOf } from "./lib/roaming_event.ts";

/** Publish Event: publishes the event through MISP, which then runs its own publish workflow. */
export const publishEvent: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "publish-event",
    name: "Publish Event",
    version: "0.1",
    description: "Publish an Event in the context of the workflow",
    icon: "upload",
    params: [],
  }),
  exec: execPublishEvent,
};

async function execPublishEvent(context: ModuleContext): Promise<boolean> {
  requireMisp(context);
  const id = String(eventOf(context.roaming.getData()).id ?? "");
  if (id === "") {
    context.errors.push("Cannot publish: the data has no Event.id");
    return false;
  }
  const answer = await callMisp<{ success?: unknown; saved?: unknown; message?: unknown }>(
    context,
    {
      method: "POST",
      path: `/events/publish/${id}`,
      summary: `publish event ${id}`,
      details: { event_id: id },
    },
  );
  if (answer === undefined) return true;
  if (answer?.success === true || answer?.saved === true) return true;
  context.errors.push(`MISP did not publish event "${id}": ${JSON.stringify(answer)}`);
  return false;
}
