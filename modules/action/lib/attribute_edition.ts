/**
 * MISP's `attribute_edition_operation` save path, shared by the IDS flag, comment and
 * distribution modules: `POST /attributes/edit/<id>` per matching attribute (no timestamp, so MISP
 * takes now), then the roaming data updated with `overrideAttribute` (reference §2.2, §3.4).
 *
 * @module
 */

import type { JsonObject } from "../../../engine/model.ts";
import type { ModuleContext } from "../../../engine/module.ts";
import { callMisp, requireMisp } from "./misp_operation.ts";
import { isObject, matchingItemsForAttributes, overrideAttribute } from "./node_filters.ts";

/**
 * Writes `changes` on every attribute the node's filters select (all flattened attributes
 * without filters). Attributes that already hold the values are left alone, so no needless edit
 * unpublishes the event. Resolves true (MISP: a selector that cannot be extracted does nothing).
 */
export async function editMatchingAttributes(
  context: ModuleContext,
  changes: JsonObject,
): Promise<boolean> {
  requireMisp(context);
  const data = context.roaming.getData();
  const attributes = matchingItemsForAttributes(context.node, data) ?? [];
  let next = data;
  const edited: string[] = [];
  for (const attribute of attributes) {
    if (Object.entries(changes).every(([key, value]) => sameValue(attribute[key], value))) continue;
    const answer = await callMisp<{ Attribute?: unknown }>(context, {
      method: "POST",
      path: `/attributes/edit/${attribute.id}`,
      body: { Attribute: changes },
      summary: `set ${describe(changes)} on attribute ${attribute.id}`,
      details: {
        attribute_id: String(attribute.id),
        attribute_uuid: String(attribute.uuid),
        changes,
      },
    });
    const saved = isObject(answer?.Attribute) ? answer.Attribute : {};
    const updated = { ...attribute, ...changes };
    if (saved.timestamp !== undefined) updated.timestamp = saved.timestamp;
    next = overrideAttribute(next, attribute, updated);
    edited.push(String(attribute.id));
  }
  context.observe("edited_attributes", edited);
  if (next !== data) context.roaming.setData(next);
  return true;
}

function sameValue(current: unknown, wanted: unknown): boolean {
  if (typeof wanted === "boolean") return Boolean(current) === wanted;
  return current !== undefined && current !== null && String(current) === String(wanted);
}

function describe(changes: JsonObject): string {
  return Object.entries(changes).map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(
    ", ",
  );
}
