/**
 * `Module_event_distribution_operation` (Event distribution operation 0.1): sets the event's
 * distribution through `POST /events/edit/<id>` (reference §2.2, §3.5). `freeze` sends the current
 * published state so MISP keeps it; MISP's REST API always bumps the timestamp, so the timestamp
 * is not frozen.
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { DISTRIBUTION_OPTIONS, sharingGroupId } from "./lib/distribution_options.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { callMisp, requireMisp } from "./lib/misp_operation.ts";
import { flattenedAttributes, isObject } from "./lib/node_filters.ts";
import { eventOf } from "./lib/roaming_event.ts";

/** Event distribution operation: sets the event's distribution in MISP and in the roaming data. */
export const eventDistributionOperation: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "Module_event_distribution_operation",
    name: "Event distribution operation",
    version: "0.1",
    description: "Set the distribution of the event.",
    icon: "edit",
    expect_misp_core_format: true,
    params: [
      {
        id: "freeze",
        label: "Preserve timestamp and published state",
        type: "select",
        options: { modify: "Modify", freeze: "Freeze" },
        default: "modify",
      },
      {
        id: "distribution",
        label: "Distribution",
        type: "select",
        options: DISTRIBUTION_OPTIONS,
        default: "0",
      },
      {
        id: "sharing_group_id",
        label: "Sharing Groups",
        type: "picker",
        default: [],
        display_on: { distribution: "4" },
      },
    ],
  }),
  exec: execEventDistribution,
};

async function execEventDistribution(context: ModuleContext): Promise<boolean> {
  requireMisp(context);
  const data = context.roaming.getData();
  // MISP's quirk: an event without attributes is left untouched and the node succeeds.
  if (flattenedAttributes(data).length === 0) return true;
  const event = eventOf(data);
  const distribution = String(context.params.distribution);
  const changes: JsonObject = { distribution };
  if (distribution === "4") {
    changes.sharing_group_id = sharingGroupId(context.params.sharing_group_id);
  }
  const freeze = context.params.freeze === "freeze";
  const body: JsonObject = freeze ? { ...changes, published: Boolean(event.published) } : changes;
  const answer = await callMisp<{ Event?: unknown }>(context, {
    method: "POST",
    path: `/events/edit/${event.id}`,
    body: { Event: body },
    summary: `set distribution ${distribution} on event ${event.id}${freeze ? " (freeze)" : ""}`,
    details: { event_id: String(event.id), changes: body },
  });
  const saved = isObject(answer?.Event) ? answer.Event : {};
  const updated: JsonObject = { ...event, ...changes };
  if (!freeze) updated.published = false;
  if (saved.timestamp !== undefined) updated.timestamp = saved.timestamp;
  context.roaming.setData({ ...data, Event: updated });
  return true;
}
