/**
 * `filter-tag` (Filter :: Tag 0.3, newer than MISP 2.5.1): enables a tag filter under a label on
 * the attributes (their own `Tag` or inherited `_allTags`) or the event reports. Every later
 * `getData()` returns the filtered view, as with `generic-filter-data`.
 *
 * MISP quirks copied: the stored default scope `event` (0.2) matches neither branch, since 0.3's
 * fix compares instead of assigning (`$scope == 'event_attribute';`), so it only snapshots the
 * data; the attribute scopes also add a filter `<label>_2` on `Event.Attribute`; chosen clusters
 * are matched as `misp-galaxy:<cluster>`.
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { isPhpArray, looseEquals, phpEmpty } from "../../engine/php_compare.ts";
import { filterBlockDescriptor, FILTERING_LABEL_PARAM, withFilter } from "./filter_block.ts";
import { TAG_CONDITION_PARAM, TAG_PICKER_PARAMS } from "../tag_params.ts";

/** Filter :: Tag: keeps the attributes or reports whose tags satisfy the condition. */
export const filterTag: WorkflowModule = {
  descriptor: filterBlockDescriptor({
    id: "filter-tag",
    name: "Filter :: Tag",
    version: "0.3",
    description:
      "Tag filtering block. The module filters incoming data and forward the matching data to its output.",
    params: [
      FILTERING_LABEL_PARAM,
      {
        id: "scope",
        label: "Scope",
        type: "select",
        options: {
          attribute: "Attributes",
          event_attribute: "Inherited Attributes",
          event_report: "Event Report",
          inherited_report: "Inherited Event Report",
        },
        default: "event_attribute",
      },
      TAG_CONDITION_PARAM,
      ...TAG_PICKER_PARAMS,
    ],
  }),
  exec(context: ModuleContext): boolean {
    const { params } = context;
    const tags = pickedList("tags", params.tags);
    const clusters = pickedList("clusters", params.clusters).map((name) =>
      `misp-galaxy:${String(name)}`
    );
    const value = [...tags, ...clusters];
    const label = String(params["filtering-label"]);
    const scope = params.scope;
    const operator = params.condition;
    const filters: Record<string, JsonObject> = {};
    if (looseEquals(scope, "attribute") || looseEquals(scope, "event_attribute")) {
      const path = looseEquals(scope, "event_attribute") ? "_allTags.{n}.name" : "Tag.{n}.name";
      filters[label] = { selector: "Event._AttributeFlattened", path, operator, value };
      filters[`${label}_2`] = { selector: "Event.Attribute", path, operator, value };
    } else if (looseEquals(scope, "event_report") || looseEquals(scope, "inherited_report")) {
      const path = looseEquals(scope, "inherited_report") ? "_allTags.{n}.name" : "Tag.{n}.name";
      filters[label] = { selector: "Event.EventReport", path, operator, value };
    }
    context.observe("filters", filters);
    context.roaming.setData(withFilter(context.roaming.getData(), filters));
    return true;
  },
};

/**
 * `!empty($v) ? $v : []` then `array_merge`: an empty value is no tag, a list (or map) gives its
 * values; a non-empty scalar is PHP 8's `array_merge` TypeError, reported as a clear failure.
 */
function pickedList(name: string, value: unknown): unknown[] {
  if (phpEmpty(value)) return [];
  if (isPhpArray(value)) return Array.isArray(value) ? [...value] : Object.values(value);
  throw new TypeError(
    `Param "${name}" must be a list of tag names, got ${JSON.stringify(value)} (MISP fails here)`,
  );
}
