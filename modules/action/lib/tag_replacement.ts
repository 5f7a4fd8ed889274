/**
 * The shared behaviour of `tag_replacement_generic`, `tag_replacement_tlp` and
 * `tag_replacement_pap`: find tags matching a rule on the event and/or the matching attributes,
 * optionally remove them, and attach the normalised tag (reference §2.2). Like MISP's modules they
 * never call `setData`: later nodes see the tags as they were before the replacement.
 *
 * @module
 */

import type { JsonObject, ModuleDescriptor } from "../../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../../engine/module.ts";
import { mispActionDescriptor } from "./misp_action.ts";
import { requireMisp } from "./misp_operation.ts";
import { isObject, matchingItemsForScope } from "./node_filters.ts";
import { eventOf } from "./roaming_event.ts";
import {
  attachTag,
  attributeTarget,
  detachTag,
  eventSelected,
  eventTarget,
  sameName,
  tagsOf,
  type TagTarget,
} from "./tag_calls.ts";

/** Turns a tag name into its substitute, or null when the rule does not apply. */
export type TagSubstitution = (tagName: string) => string | null;

/** What differs between the replacement modules. */
export interface TagReplacementOptions {
  id: string;
  name: string;
  description: string;
  /** Null: MISP's generic base, whose search regex is empty, so it replaces nothing. */
  substitute: TagSubstitution | null;
}

/** The params every replacement module declares, with MISP's odd `remove_substituted` default. */
export const TAG_REPLACEMENT_PARAMS: ModuleDescriptor["params"] = [
  {
    id: "scope",
    label: "Scope",
    type: "select",
    options: { event: "Event", attribute: "Attributes", all: "All" },
    default: "event",
  },
  {
    id: "remove_substituted",
    label: "Removed substituted tag",
    type: "select",
    options: { no: "No", yes: "Yes" },
    default: "1",
  },
  {
    id: "locality",
    label: "Tag Locality",
    type: "select",
    options: { local: "Local", global: "Global" },
    default: "local",
  },
  { id: "relationship_type", label: "Relationship Type", type: "input" },
];

/** Builds one replacement module. */
export function createTagReplacement(options: TagReplacementOptions): WorkflowModule {
  return {
    descriptor: mispActionDescriptor({
      id: options.id,
      name: options.name,
      version: "0.1",
      description: options.description,
      icon: "tags",
      expect_misp_core_format: true,
      support_filters: true,
      params: TAG_REPLACEMENT_PARAMS,
    }),
    exec: (context) => replaceTags(context, options.substitute),
  };
}

async function replaceTags(
  context: ModuleContext,
  substitute: TagSubstitution | null,
): Promise<boolean> {
  if (substitute === null) {
    context.observe("substitution_rule", "none (MISP's generic module has an empty search regex)");
    return true;
  }
  requireMisp(context);
  const scope = String(context.params.scope);
  const data = context.roaming.getData();
  const holders: { target: TagTarget; holder: JsonObject }[] = [];
  if (scope === "event" || scope === "all") {
    const items = matchingItemsForScope(context.node, data, "event") ?? [];
    if (eventSelected(items, data)) {
      holders.push({ target: eventTarget(data), holder: eventOf(data) });
    }
  }
  if (scope === "attribute" || scope === "all") {
    for (const attribute of (matchingItemsForScope(context.node, data, "attribute") ?? [])) {
      if (isObject(attribute)) {
        holders.push({ target: attributeTarget(attribute), holder: attribute });
      }
    }
  }
  const tag = {
    local: context.params.locality !== "global",
    relationshipType: String(context.params.relationship_type ?? ""),
  };
  const replaced: JsonObject[] = [];
  for (const { target, holder } of holders) {
    for (const existing of tagsOf(holder)) {
      const original = String(existing.name);
      const substitution = substitute(original);
      if (substitution === null || substitution === original) continue;
      if (context.params.remove_substituted === "yes") {
        await detachTag(context, target, original);
      }
      if (
        !tagsOf(holder).some((other) => sameName(other.name, substitution) && other !== existing)
      ) {
        await attachTag(context, target, { ...tag, name: substitution });
      }
      replaced.push({ target: `${target.scope} ${target.id}`, from: original, to: substitution });
    }
  }
  context.observe("replacements", replaced);
  return true;
}
