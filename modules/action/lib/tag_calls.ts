/**
 * Attaching and detaching tags through MISP's REST API (reference §3.3). MISP's `tag_operation`,
 * `tag_replacement_*` and `assign_country` leave the roaming data as it was (no `setData`), so
 * later nodes see the tags as they were; only the enrichment-tagging modules mirror an attribute
 * tag into the data (`mirrorAttributeTag`, MISP's `_addTag`).
 *
 * @module
 */

import type { JsonObject } from "../../../engine/model.ts";
import type { ModuleContext } from "../../../engine/module.ts";
import { MispError } from "./misp_client.ts";
import { callMisp } from "./misp_operation.ts";
import { isObject } from "./node_filters.ts";
import { byId, eventOf, updateAttributes } from "./roaming_event.ts";

/** What a tag goes on: the event or one attribute. */
export interface TagTarget {
  scope: "event" | "attribute";
  id: string;
  uuid: string;
}

/** A tag to attach. */
export interface TagSpec {
  name: string;
  local: boolean;
  /** Sent as PyMISP does; older MISP ignores it (reference §9.10). */
  relationshipType?: string;
}

/** The target for the event of the roaming data. */
export function eventTarget(data: JsonObject): TagTarget {
  const event = eventOf(data);
  return { scope: "event", id: String(event.id ?? ""), uuid: String(event.uuid ?? "") };
}

/**
 * Event scope acts when the items hold the event: always without filters, and with filters when
 * the condition kept the `Event` (an empty selector makes it the one item).
 */
export function eventSelected(items: unknown[], data: JsonObject): boolean {
  const event = eventOf(data);
  return items.some((item) => isObject(item) && item.uuid === event.uuid && "info" in item);
}

/** The target for one attribute. */
export function attributeTarget(attribute: JsonObject): TagTarget {
  return { scope: "attribute", id: String(attribute.id ?? ""), uuid: String(attribute.uuid ?? "") };
}

/** The tags already on a target in the roaming data (`Event.Tag` or the attribute's `Tag`). */
export function tagsOf(holder: JsonObject): JsonObject[] {
  return Array.isArray(holder.Tag) ? holder.Tag.filter(isObject) : [];
}

/** `POST /tags/attachTagToObject`; true once MISP accepted (or, dry, would be asked). */
export async function attachTag(
  context: ModuleContext,
  target: TagTarget,
  tag: TagSpec,
): Promise<boolean> {
  const body: JsonObject = { uuid: target.uuid, tag: tag.name, local: tag.local };
  if (tag.relationshipType) body.relationship_type = tag.relationshipType;
  await callMisp(context, {
    method: "POST",
    path: "/tags/attachTagToObject",
    body,
    summary: `attach ${
      tag.local ? "local" : "global"
    } tag "${tag.name}" to ${target.scope} ${target.id}`,
    details: {
      scope: target.scope,
      target_id: target.id,
      target_uuid: target.uuid,
      tag: tag.name,
      local: tag.local,
    },
  });
  return true;
}

/**
 * `POST /tags/removeTagFromObject`. MISP answers 404 when the tag is not attached (any more):
 * that counts as done, like MISP's own removal of a tag that is not there.
 */
export async function detachTag(
  context: ModuleContext,
  target: TagTarget,
  name: string,
): Promise<boolean> {
  try {
    await callMisp(context, {
      method: "POST",
      path: "/tags/removeTagFromObject",
      body: { uuid: target.uuid, tag: name },
      summary: `remove tag "${name}" from ${target.scope} ${target.id}`,
      details: { scope: target.scope, target_id: target.id, target_uuid: target.uuid, tag: name },
    });
  } catch (error) {
    if (error instanceof MispError && error.status === 404) return true;
    throw error;
  }
  return true;
}

/**
 * MISP's `_addTag(tags, 'attribute', rData, attribute)`, which only the enrichment-tagging modules
 * call: returns a copy of the data with the tag added to the attribute's `Tag` and `_allTags` in
 * every view of it. `tag_operation`, `tag_replacement_*` and `assign_country` never do this.
 */
export function mirrorAttributeTag(
  data: JsonObject,
  attributeId: string,
  tag: TagSpec,
): JsonObject {
  const entry: JsonObject = { name: tag.name, local: tag.local };
  if (tag.relationshipType) entry.relationship_type = tag.relationshipType;
  return updateAttributes(data, byId(attributeId), (attribute) => {
    if (tagsOf(attribute).some((item) => sameName(item.name, tag.name))) return attribute;
    const next: JsonObject = { ...attribute, Tag: [...tagsOf(attribute), entry] };
    if (Array.isArray(attribute._allTags)) {
      next._allTags = [...attribute._allTags, { ...entry, inherited: false }];
    }
    return next;
  });
}

/** MISP matches tag names case-insensitively when removing. */
export function sameName(a: unknown, b: unknown): boolean {
  return String(a).toLowerCase() === String(b).toLowerCase();
}
