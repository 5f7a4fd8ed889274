/**
 * Small readers and updaters of the event in core-format roaming data, shared by the
 * MISP-operation modules so every view of an attribute changes together.
 *
 * @module
 */

import type { JsonObject } from "../../../engine/model.ts";
import { isObject } from "./node_filters.ts";

/** `Event` of core-format roaming data, or an empty object when there is none. */
export function eventOf(data: JsonObject): JsonObject {
  return isObject(data.Event) ? data.Event : {};
}

/** A param value as a list of non-empty strings (pickers hold arrays, selects strings). */
export function stringList(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((item) => item !== null && item !== undefined && String(item) !== "")
    .map(String);
}

/**
 * Returns a copy of the data where `update` has been applied to every view of every attribute
 * (`_AttributeFlattened`, `Attribute`, `Object[].Attribute`) for which `select` is true.
 */
export function updateAttributes(
  data: JsonObject,
  select: (attribute: JsonObject) => boolean,
  update: (attribute: JsonObject) => JsonObject,
): JsonObject {
  const event = data.Event;
  if (!isObject(event)) return data;
  const apply = (list: unknown): unknown =>
    Array.isArray(list)
      ? list.map((item) => isObject(item) && select(item) ? update(item) : item)
      : list;
  const next: JsonObject = { ...event };
  if ("_AttributeFlattened" in event) next._AttributeFlattened = apply(event._AttributeFlattened);
  if ("Attribute" in event) next.Attribute = apply(event.Attribute);
  if (Array.isArray(event.Object)) {
    next.Object = event.Object.map((object) =>
      isObject(object) && Array.isArray(object.Attribute)
        ? { ...object, Attribute: apply(object.Attribute) }
        : object
    );
  }
  return { ...data, Event: next };
}

/** Selects attributes by id (compared as strings, since MISP sends ids as strings). */
export function byId(id: unknown): (attribute: JsonObject) => boolean {
  return (attribute) => String(attribute.id) === String(id);
}
