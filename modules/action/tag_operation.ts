/**
 * `tag_operation` (Tag operation 0.2): adds or removes tags on the event or on the matching
 * attributes through `/tags/attachTagToObject` and `/tags/removeTagFromObject` (reference §2.2,
 * §3.3). As MISP's module (2.5.1 and the newest 2.4-line file), it never calls `setData`: the tags
 * land in MISP, the roaming data stays as it was, and later nodes see the tags as they were.
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { requireMisp } from "./lib/misp_operation.ts";
import { isObject, matchingItemsForScope } from "./lib/node_filters.ts";
import { eventOf, stringList } from "./lib/roaming_event.ts";
import {
  attachTag,
  attributeTarget,
  detachTag,
  eventSelected,
  eventTarget,
  sameName,
  tagsOf,
} from "./lib/tag_calls.ts";
import { TAG_PICKER_PARAMS } from "../tag_params.ts";

/** Tag operation: add or remove tags, local or global, on the event or its attributes. */
export const tagOperation: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "tag_operation",
    name: "Tag operation",
    version: "0.2",
    description: "Add or remove tags on Event or Attributes.",
    icon: "tags",
    expect_misp_core_format: true,
    support_filters: true,
    params: [
      {
        id: "scope",
        label: "Scope",
        type: "select",
        options: { event: "Event", attribute: "Attribute" },
        default: "event",
      },
      {
        id: "action",
        label: "Action",
        type: "select",
        options: { add: "Add Tags", remove: "Remove Tags" },
        default: "add",
      },
      {
        id: "locality",
        label: "Tag Locality",
        type: "select",
        options: { local: "Local", global: "Global", any: "Any" },
        default: "local",
      },
      ...TAG_PICKER_PARAMS,
      {
        id: "relationship_type",
        label: "Relationship Type",
        type: "input",
        display_on: { action: "add" },
      },
    ],
  }),
  exec: execTagOperation,
};

async function execTagOperation(context: ModuleContext): Promise<boolean> {
  requireMisp(context);
  const scope = context.params.scope === "attribute" ? "attribute" : "event";
  const locality = String(context.params.locality);
  const tags = stringList(context.params.tags);
  const relationshipType = String(context.params.relationship_type ?? "");
  const data = context.roaming.getData();
  const items = matchingItemsForScope(context.node, data, scope);
  if (items === null) {
    context.errors.push(`Cannot extract filter selector "${context.node.filters?.selector}"`);
    return false;
  }
  const targets = scope === "event"
    ? (eventSelected(items, data) ? [eventTarget(data)] : [])
    : items.filter(isObject).map(attributeTarget);
  context.observe("targets", targets.map((target) => `${target.scope} ${target.id}`));
  const holders = new Map<string, JsonObject>();
  if (scope === "event") holders.set(eventTarget(data).id, eventOf(data));
  else for (const item of items.filter(isObject)) holders.set(String(item.id), item);

  const clusters = stringList(context.params.clusters);
  // MISP declares the picker but its exec() only sends `tags`: chosen clusters are not attached.
  if (clusters.length > 0) context.observe("clusters_ignored", clusters);
  let result = false;
  for (const target of targets) {
    if (context.params.action === "remove") {
      for (const name of tags) {
        const attached = tagsOf(holders.get(target.id) ?? {}).find((tag) =>
          sameName(tag.name, name) && localityMatches(tag, locality)
        );
        if (attached) {
          await detachTag(context, target, String(attached.name));
        }
        result = true;
      }
    } else {
      for (const name of tags) {
        const tag = { name, local: locality === "local", relationshipType };
        result = await attachTag(context, target, tag) || result;
      }
    }
  }
  return result;
}

function localityMatches(tag: JsonObject, locality: string): boolean {
  if (locality === "any") return true;
  return Boolean(tag.local) === (locality === "local");
}
