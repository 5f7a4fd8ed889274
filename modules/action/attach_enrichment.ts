/**
 * `attach-enrichment` (Attach enrichment 0.3): queries enrichment modules for each matching
 * attribute and appends the raw results to `attribute.enrichment` in both attribute views, without
 * saving anything in MISP (reference §2.2, §6.2). The query goes through MISP's
 * `POST /modules/queryEnrichment`, so only modules MISP exposes there (hover type) answer. As
 * MISP's `_checkIfInputSupported`, an attribute whose type the module does not take (its
 * misp-modules `mispattributes.input`) is not queried, live or dry.
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { callMisp, requireMisp } from "./lib/misp_operation.ts";
import { isObject, matchingItemsForAttributes } from "./lib/node_filters.ts";
import { supportedAttributes } from "./lib/enrichment_inputs.ts";
import { byId, eventOf, stringList, updateAttributes } from "./lib/roaming_event.ts";

/** Attach enrichment: appends enrichment results to the matching attributes, saving nothing. */
export const attachEnrichment: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "attach-enrichment",
    name: "Attach enrichment",
    version: "0.3",
    description: "Attach selected enrichment result to Attributes.",
    icon: "asterisk",
    expect_misp_core_format: true,
    support_filters: true,
    params: [{
      id: "modules",
      label: "Modules",
      type: "picker",
      multiple: true,
      options: [],
      placeholder: "Pick an enrichment module",
    }],
  }),
  exec: execAttachEnrichment,
};

async function execAttachEnrichment(context: ModuleContext): Promise<boolean> {
  requireMisp(context);
  const modules = stringList(context.params.modules);
  const data = context.roaming.getData();
  const attributes = matchingItemsForAttributes(context.node, data) ?? [];
  const eventId = String(eventOf(data).id ?? "");
  const queries: { module: string; attribute: JsonObject }[] = [];
  const skipped: JsonObject[] = [];
  for (const module of modules) {
    const supported = await supportedAttributes(context, module, attributes);
    skipped.push(...supported.skipped);
    for (const attribute of supported.accepted) queries.push({ module, attribute });
  }
  if (skipped.length > 0) context.observe("skipped_types", skipped);
  // MISP's order: attribute by attribute, each selected module in turn.
  queries.sort((a, b) => attributes.indexOf(a.attribute) - attributes.indexOf(b.attribute));
  let next = data;
  for (const { module, attribute } of queries) {
    const query = queryFor(module, attribute, eventId);
    const answer = await callMisp<JsonObject>(context, {
      method: "POST",
      path: "/modules/queryEnrichment",
      body: query,
      summary: `query "${module}" for attribute ${attribute.id}`,
      details: {
        module,
        attribute_id: String(attribute.id),
        attribute_type: String(attribute.type),
      },
    });
    if (answer === undefined) continue;
    const result = isObject(answer) && "results" in answer
      ? answer.results
      : { error: isObject(answer) && "error" in answer ? answer.error : answer };
    next = updateAttributes(next, byId(attribute.id), (current) => ({
      ...current,
      enrichment: [...(Array.isArray(current.enrichment) ? current.enrichment : []), result],
    }));
  }
  if (next !== data) context.roaming.setData(next);
  return true;
}

/** Both request forms of §6.2: `attribute` for misp_standard modules, `<type>: value` for legacy. */
function queryFor(module: string, attribute: JsonObject, eventId: string): JsonObject {
  const plain: JsonObject = {};
  for (const [key, value] of Object.entries(attribute)) {
    if (!key.startsWith("_") && key !== "enrichment") plain[key] = value;
  }
  return {
    module,
    event_id: eventId,
    attribute_uuid: attribute.uuid,
    attribute: plain,
    [String(attribute.type)]: attribute.value,
  };
}
