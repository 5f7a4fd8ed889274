/**
 * `attach-warninglist` (Attach warninglist 0.2): checks the values of the matching `to_ids`
 * attributes against MISP's warninglists (`POST /warninglists/checkValue`) and puts the hits in
 * `attribute.warnings` and `Event.warnings`, in the roaming data only (reference §2.2).
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { callMisp, requireMisp } from "./lib/misp_operation.ts";
import { isObject, matchingItemsForAttributes } from "./lib/node_filters.ts";
import { byId, eventOf, stringList, updateAttributes } from "./lib/roaming_event.ts";

/** Attach warninglist: marks the attributes (and the event) that hit a MISP warninglist. */
export const attachWarninglist: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "attach-warninglist",
    name: "Attach warninglist",
    version: "0.2",
    description: "Attach selected warninglist result.",
    icon: "exclamation-triangle",
    expect_misp_core_format: true,
    support_filters: true,
    params: [{
      id: "warninglists",
      label: "Warninglists",
      type: "picker",
      multiple: true,
      options: { ALL: "ALL" },
      // MISP declares the string "ALL" for this multiple picker; its exec wraps a string in a list.
      default: "ALL",
      placeholder: "ALL",
    }],
  }),
  exec: execAttachWarninglist,
};

async function execAttachWarninglist(context: ModuleContext): Promise<boolean> {
  requireMisp(context);
  const data = context.roaming.getData();
  // MISP's checkForWarning only looks at attributes with the IDS flag.
  const attributes = (matchingItemsForAttributes(context.node, data) ?? []).filter((attribute) =>
    Boolean(attribute.to_ids)
  );
  if (attributes.length === 0) return true;
  const values = [...new Set(attributes.map((attribute) => String(attribute.value)))];
  const answer = await callMisp<JsonObject>(context, {
    method: "POST",
    path: "/warninglists/checkValue",
    body: values,
    summary: `check ${values.length} value(s) against warninglists`,
    details: { values: values.length },
  });
  if (!isObject(answer)) return true;
  const wanted = stringList(context.params.warninglists);
  const everyList = wanted.length === 0 || wanted.includes("ALL");
  const categories = await listCategories(context, answer);
  const eventWarnings = new Map<string, JsonObject>();
  let next = data;
  for (const attribute of attributes) {
    const hits = (Array.isArray(answer[String(attribute.value)])
      ? answer[String(attribute.value)] as unknown[]
      : []).filter(isObject).filter((hit) =>
        everyList || wanted.includes(String(hit.name))
      );
    if (hits.length === 0) continue;
    const warnings = hits.map((hit) => ({
      value: attribute.value,
      match: hit.matched,
      warninglist_id: String(hit.id),
      warninglist_name: hit.name,
      warninglist_category: categories.get(String(hit.id)) ?? null,
    }));
    for (const hit of hits) {
      eventWarnings.set(String(hit.id), {
        id: String(hit.id),
        name: hit.name,
        category: categories.get(String(hit.id)) ?? null,
      });
    }
    next = updateAttributes(next, byId(attribute.id), (current) => ({ ...current, warnings }));
  }
  if (eventWarnings.size > 0) {
    next = { ...next, Event: { ...eventOf(next), warnings: [...eventWarnings.values()] } };
    context.roaming.setData(next);
  }
  context.observe("warninglist_hits", [...eventWarnings.keys()]);
  return true;
}

/** `checkValue` does not say a list's category; `/warninglists/index` does (only read on hits). */
async function listCategories(
  context: ModuleContext,
  answer: JsonObject,
): Promise<Map<string, string>> {
  const categories = new Map<string, string>();
  if (Object.keys(answer).length === 0) return categories;
  const index = await callMisp<JsonObject>(context, {
    method: "GET",
    path: "/warninglists/index",
    summary: "read warninglist categories",
  });
  const lists = isObject(index) && Array.isArray(index.Warninglists) ? index.Warninglists : [];
  for (const entry of lists) {
    const list = isObject(entry) && isObject(entry.Warninglist) ? entry.Warninglist : undefined;
    if (list) categories.set(String(list.id), String(list.category));
  }
  return categories;
}
