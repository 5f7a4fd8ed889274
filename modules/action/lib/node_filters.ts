/**
 * Node-level filters (`saved_filters`) of action modules with `support_filters`, and MISP's
 * `_overrideAttribute` that keeps both attribute views of the roaming data in step (reference
 * §1.3; workflows §8.3 and §3.3).
 *
 * @module
 */

import { itemsMatchingCondition } from "../../../engine/conditions.ts";
import { extract } from "../../../engine/hash_path.ts";
import type { JsonObject, NodeFilters, WorkflowNode } from "../../../engine/model.ts";

/** Where attribute-oriented modules look when filters are off. */
export const FLATTENED_ATTRIBUTES_PATH = "Event._AttributeFlattened.{n}";

const NO_FILTERS: NodeFilters = { selector: "", value: "", operator: "", path: "" };

/** MISP's `filtersEnabled`: any of the four filter strings is non-empty. */
export function filtersEnabled(node: WorkflowNode): boolean {
  const filters = getFilters(node);
  return filters.selector !== "" || filters.value !== "" || filters.operator !== "" ||
    filters.path !== "";
}

/** MISP's `getFilters`: the node's filter strings over the empty defaults. */
export function getFilters(node: WorkflowNode): NodeFilters {
  const saved = node.filters ?? NO_FILTERS;
  return {
    selector: saved.selector ?? "",
    value: saved.value ?? "",
    operator: saved.operator ?? "",
    path: saved.path ?? "",
  };
}

/**
 * The items the node's filters select: `selector` extracted from the data (an empty selector gives
 * the data's top-level values, so `{"Event": …}` is one item), kept when the condition holds.
 * Returns null when the selector cannot be extracted (MISP's `extractData` returning false).
 */
export function matchingItems(node: WorkflowNode, data: JsonObject): unknown[] | null {
  const filters = getFilters(node);
  let selected: unknown;
  try {
    selected = filters.selector === "" ? data : extract(data, filters.selector);
  } catch {
    return null;
  }
  return itemsMatchingCondition(asItems(selected), filters.value, filters.operator, filters.path);
}

/**
 * MISP's `getMatchingItemsForAttributes`: with filters, the matching items; without, every
 * attribute of `Event._AttributeFlattened`. Null when the selector cannot be extracted (the module
 * then succeeds doing nothing).
 */
export function matchingItemsForAttributes(
  node: WorkflowNode,
  data: JsonObject,
): JsonObject[] | null {
  if (filtersEnabled(node)) return matchingItems(node, data)?.filter(isObject) ?? null;
  return flattenedAttributes(data);
}

/**
 * The variant of the tag modules (`tag_operation`, `tag_replacement_*`, `assign_country`): with
 * filters, the matching items; without, the data's top-level values (event scope: the `Event`)
 * or every flattened attribute (attribute scope).
 */
export function matchingItemsForScope(
  node: WorkflowNode,
  data: JsonObject,
  scope: "event" | "attribute",
): unknown[] | null {
  if (filtersEnabled(node)) return matchingItems(node, data);
  return scope === "event" ? Object.values(data) : flattenedAttributes(data);
}

/** Every attribute of `Event._AttributeFlattened`, in order. */
export function flattenedAttributes(data: JsonObject): JsonObject[] {
  return asItems(extract(data, FLATTENED_ATTRIBUTES_PATH)).filter(isObject);
}

/**
 * MISP's `_overrideAttribute`: returns a copy of the data where the attribute with
 * `oldAttribute.id` is replaced by `newAttribute` in `Event._AttributeFlattened` and in
 * `Event.Attribute` or `Event.Object[j].Attribute`. The input data is not changed.
 */
export function overrideAttribute(
  data: JsonObject,
  oldAttribute: JsonObject,
  newAttribute: JsonObject,
): JsonObject {
  const event = data.Event;
  if (!isObject(event)) return data;
  const id = String(oldAttribute.id);
  const replace = (list: unknown): unknown =>
    Array.isArray(list)
      ? list.map((item) => isObject(item) && String(item.id) === id ? newAttribute : item)
      : list;
  const next: JsonObject = { ...event };
  if ("_AttributeFlattened" in event) next._AttributeFlattened = replace(event._AttributeFlattened);
  if ("Attribute" in event) next.Attribute = replace(event.Attribute);
  if (Array.isArray(event.Object)) {
    next.Object = event.Object.map((object) =>
      isObject(object) && Array.isArray(object.Attribute)
        ? { ...object, Attribute: replace(object.Attribute) }
        : object
    );
  }
  return { ...data, Event: next };
}

/** True for a JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asItems(selected: unknown): unknown[] {
  if (Array.isArray(selected)) return selected;
  if (isObject(selected)) return Object.values(selected);
  return selected === undefined || selected === null ? [] : [selected];
}
