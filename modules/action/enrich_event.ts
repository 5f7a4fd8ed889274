/**
 * `enrich-event` (Enrich Event 0.2): has MISP run one enrichment module and save the results,
 * on the whole event (`POST /events/enrichEvent/<id>`) or, with filters, on the matching
 * attributes only (`POST /attributes/enrich/<id>` each, skipping the types the module does not
 * take, as MISP's enrichment does), then reloads the roaming data (reference §2.2, §3.5).
 *
 * @module
 */

import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { supportedAttributes } from "./lib/enrichment_inputs.ts";
import { reloadRoamingEvent } from "./lib/event_reload.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { callMisp, requireMisp } from "./lib/misp_operation.ts";
import { filtersEnabled, isObject, matchingItems } from "./lib/node_filters.ts";
import { eventOf } from "./lib/roaming_event.ts";

/** Enrich Event: has MISP enrich and save the event (or matching attributes), then reloads it. */
export const enrichEvent: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "enrich-event",
    name: "Enrich Event",
    version: "0.2",
    description: "Enrich all Attributes contained in the Event with the provided module.",
    icon: "asterisk",
    expect_misp_core_format: true,
    support_filters: true,
    params: [{
      id: "modules",
      label: "Modules",
      type: "select",
      options: [],
      placeholder: "Pick an enrichment module",
    }],
  }),
  exec: execEnrichEvent,
};

async function execEnrichEvent(context: ModuleContext): Promise<boolean> {
  requireMisp(context);
  const module = String(context.params.modules ?? "");
  if (module === "") {
    context.errors.push("No enrichment module selected");
    return false;
  }
  const data = context.roaming.getData();
  const event = eventOf(data);
  if (filtersEnabled(context.node)) {
    const matching = (matchingItems(context.node, data) ?? []).filter(isObject);
    if (matching.length === 0) return true;
    const { accepted: attributes, skipped } = await supportedAttributes(context, module, matching);
    if (skipped.length > 0) context.observe("skipped_types", skipped);
    for (const attribute of attributes) {
      await callMisp(context, {
        method: "POST",
        path: `/attributes/enrich/${attribute.id}`,
        body: { [module]: true },
        summary: `enrich attribute ${attribute.id} with "${module}"`,
        details: {
          module,
          attribute_id: String(attribute.id),
          attribute_uuid: String(attribute.uuid),
        },
      });
    }
  } else {
    await callMisp(context, {
      method: "POST",
      path: `/events/enrichEvent/${event.id}`,
      body: { [module]: true },
      summary: `enrich event ${event.id} with "${module}"`,
      details: { module, event_id: String(event.id) },
    });
  }
  await reloadRoamingEvent(context);
  return true;
}
