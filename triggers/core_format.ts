/**
 * MISP core format: the conversion MISP's `WorkflowFormatConverterTool` applies to trigger data
 * (reference §5), done without MISP's database on the data Flowgate is given, in one pass.
 *
 * @module
 */

import type { JsonObject } from "../engine/model.ts";
import {
  describeKeys,
  isPhpEmpty,
  isPlainObject,
  isSet,
  normalizationFailure,
  requireObject,
  withoutKeys,
} from "./json_shape.ts";

/** Options of {@linkcode toCoreFormat}. */
export interface CoreFormatOptions {
  /** Trigger the conversion is done for; error messages name it. */
  trigger?: string;
}

/** Top-level keys of a fetched event that belong under `Event` (JSONConverterTool::convert). */
const EVENT_CHILD_KEYS = [
  "Org",
  "Orgc",
  "SharingGroup",
  "Attribute",
  "ShadowAttribute",
  "RelatedAttribute",
  "RelatedEvent",
  "Galaxy",
  "Object",
  "EventReport",
  "CryptographicKey",
  "Note",
  "Opinion",
  "Relationship",
] as const;

/** Attribute keys JSONConverterTool removes (`AttributeTag` becomes `Tag`). */
const ATTRIBUTE_DROPPED_KEYS = ["value1", "value2", "AttributeTag"];
const ATTRIBUTE_DROPPED_KEYS_AND_SHARING_GROUP = [...ATTRIBUTE_DROPPED_KEYS, "SharingGroup"];

/** Analyst data lists whose entries lose an empty `SharingGroup`. */
const ANALYST_DATA_KEYS = ["Note", "Opinion", "Relationship"] as const;

/** Keys of an unwrapped event that stay at the top level when it is wrapped into `Event`. */
const BARE_EVENT_TOP_KEYS = new Set(["EventTag", "Sighting", "errors"]);

/** Event fields whose presence marks an object as an event without the `Event` wrapper. */
const BARE_EVENT_HINTS = ["info", "orgc_id", "threat_level_id", "publish_timestamp", "analysis"];

/** What the conversion works on, as MISP's `__guessScopeFromData` would decide it. */
type CoreScope = "event" | "bare-event" | "attribute" | "object";

/** What every attribute of one event needs during cleaning. */
interface AttributeContext {
  trigger: string | undefined;
  /** Event tags as `_allTags` entries (`inherited: true`), shared by every attribute. */
  inherited: JsonObject[];
  /** Top-level `Sighting` rows grouped by `attribute_id`. */
  sightings: Map<string, unknown[]> | undefined;
  /** `Event.RelatedAttribute`: correlations by attribute id. */
  related: JsonObject | undefined;
}

/**
 * Converts MISP data to MISP core format, as MISP does before a core-format workflow runs: the
 * event under `Event` with `Tag`, cleaned `Attribute` and `Object` lists, `_allTags` on every
 * attribute and `Event._AttributeFlattened`; top-level `_` keys (e.g. `_module`) are kept.
 * Accepts a full event with or without the `Event` wrapper, the `fetchEvent` shape, an attribute
 * record `{Attribute, Event, Object?}` and an object record `{Object, Event?}` (without `Event`,
 * the event known only by the record's `event_id`). Idempotent; the input is not changed.
 *
 * @throws {NormalizationError} when the data is not an object or holds no event.
 */
export function toCoreFormat(data: unknown, options: CoreFormatOptions = {}): JsonObject {
  const { trigger } = options;
  const top = requireObject(data, trigger);
  let converted: JsonObject;
  switch (guessScope(top)) {
    case "bare-event":
      converted = convertEvent(wrapBareEvent(top), trigger);
      break;
    case "attribute":
      converted = convertAttributeRecord(top, trigger);
      break;
    case "object":
      converted = convertObjectRecord(top, trigger);
      break;
    case "event":
      if (!isPlainObject(top.Event)) {
        throw normalizationFailure(trigger, `no "Event" object found (${describeKeys(top)})`);
      }
      converted = convertEvent(top, trigger);
  }
  addFlattenedAttributes(converted.Event as JsonObject);
  for (const key in top) {
    if (key.startsWith("_")) converted[key] = top[key];
  }
  return converted;
}

/** True when `data` is already in core format (an `Event` with `_AttributeFlattened`). */
export function isCoreFormat(data: JsonObject): boolean {
  return isPlainObject(data.Event) && Array.isArray(data.Event._AttributeFlattened);
}

/** True when `data` holds something to build an event from (an event, attribute or object). */
export function hasEventData(data: JsonObject): boolean {
  return isSet(data.Event) || isSet(data.Attribute) || isSet(data.Object) || isBareEvent(data);
}

/** Options of {@linkcode placeAttribute}. */
export interface PlaceAttributeOptions {
  /** The object the attribute belongs to; empty or missing means a plain attribute. */
  object?: JsonObject | undefined;
}

/**
 * Puts `attribute` into `event` the way MISP's trigger normalisers do: inside a copy of its
 * object (`Event.Object = [{…object, Attribute: [attribute]}]`) when one is given, otherwise in
 * `Event.Attribute`. Returns a new event; the inputs are not changed.
 */
export function placeAttribute(
  event: JsonObject,
  attribute: JsonObject,
  options: PlaceAttributeOptions = {},
): JsonObject {
  const { object } = options;
  if (object !== undefined && !isPhpEmpty(object)) {
    const container = withoutKeys(object, ["Attribute", "Event"]);
    container.Attribute = [attribute];
    return { ...event, Object: [...existingList(event.Object), container] };
  }
  return { ...event, Attribute: [...existingList(event.Attribute), attribute] };
}

/** MISP's scope guess, except that list-valued `Attribute`/`Object` mean an event. */
function guessScope(top: JsonObject): CoreScope {
  if (!isSet(top.Event) && isBareEvent(top)) return "bare-event";
  if (isSet(top.Object) && !isSet(top.Attribute)) {
    return isPlainObject(top.Object) ? "object" : "event";
  }
  if (!isSet(top.Attribute)) return "event";
  if (!isSet(top.Event)) return "attribute";
  if (isSet(top.RelatedEvent) || isSet(top.Orgc) || isSet(top.Org)) return "event";
  return isPlainObject(top.Attribute) && !isPhpEmpty(top.Attribute) ? "attribute" : "event";
}

function isBareEvent(top: JsonObject): boolean {
  if (isSet(top.Event)) return false;
  return Array.isArray(top.Attribute) || Array.isArray(top.Object) ||
    BARE_EVENT_HINTS.some((key) => key in top);
}

/** `{info, Attribute, …}` → `{Event: {info, Attribute, …}}`, keeping `_` keys and `EventTag` up. */
function wrapBareEvent(top: JsonObject): JsonObject {
  const event: JsonObject = {};
  const wrapped: JsonObject = { Event: event };
  for (const key in top) {
    if (key.startsWith("_") || BARE_EVENT_TOP_KEYS.has(key)) wrapped[key] = top[key];
    else event[key] = top[key];
  }
  return wrapped;
}

/** `{Attribute, Event, Object?}` → the attribute inside its event (or inside its object). */
function convertAttributeRecord(top: JsonObject, trigger: string | undefined): JsonObject {
  const attribute = top.Attribute;
  if (!isPlainObject(attribute)) {
    throw normalizationFailure(trigger, `"Attribute" is not an object`);
  }
  const source = entityEvent(top, attribute, { entity: "attribute", trigger });
  const record = isSet(top.AttributeTag)
    ? { ...attribute, AttributeTag: top.AttributeTag }
    : attribute;
  const object = isPlainObject(top.Object)
    ? top.Object
    : isPlainObject(attribute.Object)
    ? attribute.Object
    : undefined;
  const inObject = !isPhpZero(attribute.object_id) && object !== undefined;
  const event = placeAttribute(source, record, { object: inObject ? object : undefined });
  return convertEvent(eventRecord(top, event), trigger);
}

/** `{Object, Event?}` (or the event under `Object.Event`) → the object inside its event. */
function convertObjectRecord(top: JsonObject, trigger: string | undefined): JsonObject {
  const object = top.Object as JsonObject;
  const source = entityEvent(top, object, { entity: "object", trigger });
  const cleaned = withoutKeys(
    object,
    isPhpEmpty(object.SharingGroup) ? ["Event", "SharingGroup"] : ["Event"],
  );
  const event = { ...source, Object: [...existingList(source.Object), cleaned] };
  return convertEvent(eventRecord(top, event), trigger);
}

/** What {@linkcode entityEvent} looks for and reports. */
interface EntityEventOptions {
  entity: "attribute" | "object";
  trigger: string | undefined;
}

/**
 * The event an attribute or object record belongs to: the record's `Event`, the entity's own
 * `Event`, or, without a database to fetch it from, the event known only by `event_id`.
 */
function entityEvent(top: JsonObject, entity: JsonObject, options: EntityEventOptions): JsonObject {
  if (isPlainObject(top.Event)) return top.Event;
  if (isPlainObject(entity.Event)) return entity.Event;
  if (!isPhpEmpty(entity.event_id)) return { id: entity.event_id };
  throw normalizationFailure(
    options.trigger,
    `no "Event" object and no event id found for the ${options.entity} (${describeKeys(top)})`,
  );
}

/** The record the event conversion needs: the event plus the top-level rows it reads. */
function eventRecord(top: JsonObject, event: JsonObject): JsonObject {
  const record: JsonObject = { Event: event };
  if (isSet(top.EventTag)) record.EventTag = top.EventTag;
  if (isSet(top.Sighting)) record.Sighting = top.Sighting;
  return record;
}

/** JSONConverterTool::convert (raw) plus `_allTags`, without changing `top`. */
function convertEvent(top: JsonObject, trigger: string | undefined): JsonObject {
  const event: JsonObject = { ...(top.Event as JsonObject) };
  for (const key of EVENT_CHILD_KEYS) {
    if (isSet(top[key])) event[key] = top[key];
  }
  if ("SharingGroup" in event && isPhpEmpty(event.SharingGroup)) delete event.SharingGroup;
  if (!isPhpEmpty(event.Galaxy)) {
    event.Galaxy = listOf(event.Galaxy, { path: "Event.Galaxy", trigger }).map(
      fillEmptyClusterMeta,
    );
  }
  if (isSet(top.EventTag)) {
    event.Tag = mergeTagRows(event.Tag, listOf(top.EventTag, { path: "EventTag", trigger }));
  }
  for (const key of ANALYST_DATA_KEYS) {
    if (isSet(event[key])) {
      event[key] = listOf(event[key], { path: `Event.${key}`, trigger }).map(dropEmptySharingGroup);
    }
  }
  const context: AttributeContext = {
    trigger,
    inherited: existingList(event.Tag).filter(isPlainObject).map((tag) => ({
      ...tag,
      inherited: true,
    })),
    sightings: groupSightings(top.Sighting),
    related: isPlainObject(event.RelatedAttribute) || Array.isArray(event.RelatedAttribute)
      ? event.RelatedAttribute as JsonObject
      : undefined,
  };
  if (isSet(event.Attribute)) {
    event.Attribute = cleanAttributes(event.Attribute, { path: "Event.Attribute", context });
  }
  if (isSet(event.Object)) event.Object = cleanObjects(event.Object, context);
  if ("RelatedAttribute" in event) delete event.RelatedAttribute;
  if ("user_id" in event) delete event.user_id;
  const converted: JsonObject = { Event: event };
  if (isSet(top.errors)) converted.errors = top.errors;
  return converted;
}

/** `EventTag[k].Tag` / `AttributeTag[k].Tag` → `Tag[k]`, without `org_id`. */
function mergeTagRows(current: unknown, rows: unknown[]): unknown[] {
  const tags = [...existingList(current)];
  rows.forEach((row, k) => {
    if (isPlainObject(row) && isPlainObject(row.Tag)) tags[k] = withoutKeys(row.Tag, ["org_id"]);
  });
  return tags.filter((tag) => tag !== undefined);
}

function fillEmptyClusterMeta(galaxy: unknown): unknown {
  if (!isPlainObject(galaxy) || !Array.isArray(galaxy.GalaxyCluster)) return galaxy;
  if (!galaxy.GalaxyCluster.some((c) => isPlainObject(c) && isPhpEmpty(c.meta))) return galaxy;
  const clusters = galaxy.GalaxyCluster.map((cluster) =>
    isPlainObject(cluster) && isPhpEmpty(cluster.meta) ? { ...cluster, meta: {} } : cluster
  );
  return { ...galaxy, GalaxyCluster: clusters };
}

function dropEmptySharingGroup(entry: unknown): unknown {
  if (!isPlainObject(entry) || !("SharingGroup" in entry) || !isPhpEmpty(entry.SharingGroup)) {
    return entry;
  }
  return withoutKeys(entry, ["SharingGroup"]);
}

function groupSightings(rows: unknown): Map<string, unknown[]> | undefined {
  if (!Array.isArray(rows) || rows.length === 0) return undefined;
  const grouped = new Map<string, unknown[]>();
  for (const row of rows) {
    if (!isPlainObject(row)) continue;
    const key = String(row.attribute_id);
    const list = grouped.get(key);
    if (list === undefined) grouped.set(key, [row]);
    else list.push(row);
  }
  return grouped;
}

/** Objects with their attributes cleaned; objects without attributes are dropped. */
function cleanObjects(objects: unknown, context: AttributeContext): JsonObject[] {
  const cleaned: JsonObject[] = [];
  listOf(objects, { path: "Event.Object", trigger: context.trigger }).forEach((object, j) => {
    if (!isPlainObject(object)) {
      throw normalizationFailure(context.trigger, `"Event.Object.${j}" is not an object`);
    }
    if (isPhpEmpty(object.Attribute)) return;
    const path = `Event.Object.${j}.Attribute`;
    cleaned.push({ ...object, Attribute: cleanAttributes(object.Attribute, { path, context }) });
  });
  return cleaned;
}

/** Where a list of attributes sits and what cleaning it needs. */
interface AttributeList {
  path: string;
  context: AttributeContext;
}

/** The attributes at `path`, each cleaned. */
function cleanAttributes(value: unknown, { path, context }: AttributeList): JsonObject[] {
  return listOf(value, { path, trigger: context.trigger }).map((attribute, i) => {
    if (!isPlainObject(attribute)) {
      throw normalizationFailure(context.trigger, `"${path}.${i}" is not an object`);
    }
    return cleanAttribute(attribute, context);
  });
}

/** One attribute, cleaned as JSONConverterTool does, with its `_allTags`. */
function cleanAttribute(value: JsonObject, context: AttributeContext): JsonObject {
  const attribute = "SharingGroup" in value && isPhpEmpty(value.SharingGroup)
    ? withoutKeys(value, ATTRIBUTE_DROPPED_KEYS_AND_SHARING_GROUP)
    : withoutKeys(value, ATTRIBUTE_DROPPED_KEYS);
  if (isSet(value.AttributeTag)) {
    attribute.Tag = mergeTagRows(
      value.Tag,
      listOf(value.AttributeTag, {
        path: `AttributeTag" of attribute "${String(value.id)}`,
        trigger: context.trigger,
      }),
    );
  }
  const id = String(value.id);
  const sightings = context.sightings?.get(id);
  if (sightings !== undefined) attribute.Sighting = sightings;
  const correlations = context.related?.[id];
  if (Array.isArray(correlations) && correlations.length > 0) {
    attribute.RelatedAttribute = [
      ...existingList(attribute.RelatedAttribute),
      ...correlations.filter(isPlainObject).map((row) => ({
        id: row.attribute_id,
        value: row.value,
        org_id: row.org_id,
        info: row.info,
        event_id: row.id,
      })),
    ];
  }
  const own: JsonObject[] = [];
  if (Array.isArray(attribute.Tag)) {
    for (const tag of attribute.Tag) {
      if (isPlainObject(tag)) own.push({ ...tag, inherited: false });
    }
  }
  attribute._allTags = context.inherited.length === 0 ? own : context.inherited.concat(own);
  return attribute;
}

/** `Event._AttributeFlattened`: copies of the plain attributes, then of the object attributes. */
function addFlattenedAttributes(event: JsonObject): void {
  const flattened: JsonObject[] = [];
  for (const attribute of existingList(event.Attribute)) {
    if (isPlainObject(attribute)) flattened.push({ ...attribute });
  }
  for (const object of existingList(event.Object)) {
    if (!isPlainObject(object)) continue;
    for (const attribute of existingList(object.Attribute)) {
      if (isPlainObject(attribute)) flattened.push({ ...attribute });
    }
  }
  event._AttributeFlattened = flattened;
}

/** Where a list sits, for the error when it is not one. */
interface ListLocation {
  path: string;
  trigger: string | undefined;
}

/** A JSON list as PHP iterates it: a list, or the values of an object; null is empty. */
function listOf(value: unknown, { path, trigger }: ListLocation): unknown[] {
  if (Array.isArray(value)) return value;
  if (!isSet(value)) return [];
  if (isPlainObject(value)) return Object.values(value);
  throw normalizationFailure(trigger, `"${path}" is not a list`);
}

/** The list already in place, or an empty one (for appending to optional lists). */
function existingList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return isPlainObject(value) ? Object.values(value) : [];
}

/** PHP 8 `$id == 0` for the id shapes MISP uses. */
function isPhpZero(value: unknown): boolean {
  return !isSet(value) || value === 0 || value === "0" || value === "" || value === false;
}
