/**
 * `tag-if` (IF :: Tag, v0.4): tests the tags of the event, its attributes, or its attributes with
 * inherited tags (reference §7.2, errata 16–19).
 *
 * @module
 */

import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { IF_BLOCK } from "./if_block.ts";
import { extract } from "../../engine/hash_path.ts";
import { evaluateCondition } from "../../engine/conditions.ts";
import { isPhpArray, looseEquals, phpEmpty, phpValues } from "../../engine/php_compare.ts";
import { observable } from "./observation.ts";
import { TAG_CONDITION_PARAM } from "../tag_params.ts";

/** Where each scope reads tag names; anything unknown falls back to the event's tags. */
function tagPath(scope: unknown): string {
  if (looseEquals(scope, "attribute")) return "Event._AttributeFlattened.{n}.Tag.{n}.name";
  if (looseEquals(scope, "event_attribute")) {
    return "Event._AttributeFlattened.{n}._allTags.{n}.name";
  }
  return "Event.Tag.{n}.name";
}

/** A picker value as a list; MISP crashes (TypeError) on a non-empty scalar, Flowgate refuses it. */
function pickedList(param: string, value: unknown): readonly unknown[] {
  if (phpEmpty(value)) return [];
  if (!isPhpArray(value)) {
    throw new TypeError(`Param "${param}" must be a list of names, got ${JSON.stringify(value)}`);
  }
  return phpValues(value);
}

/** IF :: Tag: `then` when the selected tags and clusters satisfy the condition. */
export const tagIf: WorkflowModule = {
  descriptor: {
    id: "tag-if",
    name: "IF :: Tag",
    version: "0.4",
    description:
      "Tag IF / ELSE condition block. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.",
    ...IF_BLOCK,
    expect_misp_core_format: true,
    enabled_by_default: true,
    params: [
      {
        id: "scope",
        label: "Scope",
        type: "select",
        options: { event: "Event", attribute: "Attribute", event_attribute: "Inherited Attribute" },
        default: "event",
      },
      TAG_CONDITION_PARAM,
      { id: "tags", label: "Tags", type: "picker", multiple: true, placeholder: "Pick a tag" },
      {
        id: "clusters",
        label: "Galaxy Clusters",
        type: "picker",
        multiple: true,
        placeholder: "Pick a Galaxy Cluster",
      },
    ],
  },
  exec(context: ModuleContext): boolean {
    const { scope, condition, tags, clusters } = context.params;
    const data = context.roaming.getData();
    const selected = [
      ...pickedList("tags", tags),
      ...pickedList("clusters", clusters).map((name) => `misp-galaxy:${String(name)}`),
    ];
    const extracted = extract(data, tagPath(scope));
    context.observe("scope", scope);
    context.observe("tags_found", observable(extracted));
    context.observe("tags_selected", observable(selected));
    return evaluateCondition(extracted, condition, selected);
  },
};
