/**
 * Per-trigger normalisation (reference §4.1): what a workflow sees for each trigger, built from
 * the data Flowgate is given where MISP would fetch the rest from its database.
 *
 * Every function takes the raw data and the trigger id (named in error messages), returns the
 * normalised data without changing the input, and throws `NormalizationError` when the data does
 * not fit. Data already in core format (an `Event` with `_AttributeFlattened`, what MISP sends to
 * `/query`) is returned as it is: re-deriving it would be wasted work and would undo what earlier
 * nodes did to it in MISP (a filter trimming `_AttributeFlattened`, enrichment on its entries).
 *
 * @module
 */

import type { JsonObject } from "../engine/model.ts";
import { hasEventData, isCoreFormat, placeAttribute, toCoreFormat } from "./core_format.ts";
import {
  describeKeys,
  isPhpEmpty,
  isPlainObject,
  isSet,
  normalizationFailure,
  requireObject,
} from "./json_shape.ts";

export { NormalizationError } from "./normalization_error.ts";

/** A trigger's normalisation: raw data in, what the workflow sees out. */
export type Normalizer = (raw: unknown, trigger: string) => JsonObject;

/** Analyst data types, in the order MISP lists them. */
const ANALYST_DATA_TYPES = ["Note", "Opinion", "Relationship"] as const;

/** What analyst data can be attached to (`object_type`). */
const ANALYST_PARENT_TYPES = ["Event", "Attribute", "Object", "EventReport"];

/** The data being normalised and the trigger it is normalised for. */
interface TriggerInput {
  data: JsonObject;
  trigger: string;
}

/** Top-level rows of a fetched event that travel with it into the conversion. */
const EVENT_CONTEXT_KEYS = ["EventTag", "Org", "Orgc", "Galaxy", "RelatedEvent"];

/**
 * Core-format triggers without a custom normaliser (event, attribute and object triggers): the
 * §5 conversion of whatever event, attribute record or object record is given.
 */
export function normalizeCoreFormat(raw: unknown, trigger: string): JsonObject {
  // `toCoreFormat` checks the data (an object, nested within the limit) itself: checked once.
  if (isPlainObject(raw) && isCoreFormat(raw)) return requireObject(raw, trigger);
  return toCoreFormat(raw, { trigger });
}

/**
 * `enrichment-before-query`: the §5 conversion, `_module` kept at the top level. Data with no
 * event at all (MISP's hover query sends only `{_module}`) gives an empty event, as in MISP.
 */
export function normalizeEnrichment(raw: unknown, trigger: string): JsonObject {
  const data = requireObject(raw, trigger);
  if (isCoreFormat(data)) return data;
  if (hasEventData(data)) return toCoreFormat(data, { trigger });
  const normalized: JsonObject = { Event: { _AttributeFlattened: [] } };
  for (const key in data) {
    if (key.startsWith("_")) normalized[key] = data[key];
  }
  return normalized;
}

/**
 * `tag-attached-after-save`: the event the tag was attached to (the given `Event`, or one known
 * only by `Tag.event_id`), with the tagged attribute when one is given; the `Tag` row itself is
 * not part of the result (only the entry condition reads it).
 */
export function normalizeTagAttached(raw: unknown, trigger: string): JsonObject {
  const data = requireObject(raw, trigger);
  if (isCoreFormat(data)) return data;
  const tag = requireRow({ data, trigger }, "Tag");
  let event = requireEvent({ data, trigger }, { id: tag.event_id });
  if (!isPhpEmpty(tag.attribute_id) && isPlainObject(data.Attribute)) {
    event = placeAttribute(event, data.Attribute, { object: objectOf(data) });
  }
  return toCoreFormat(eventRecord(data, event), { trigger });
}

/**
 * `sighting-after-save`: the sighted attribute inside its event, from the given `Event` and
 * `Attribute` or from `Sighting.Event` and `Sighting.Attribute`; the sighting row is dropped.
 */
export function normalizeSighting(raw: unknown, trigger: string): JsonObject {
  const data = requireObject(raw, trigger);
  if (isCoreFormat(data)) return data;
  const sighting = requireRow({ data, trigger }, "Sighting");
  const fallback = isPlainObject(sighting.Event) ? sighting.Event : { id: sighting.event_id };
  let event = requireEvent({ data, trigger }, fallback);
  const attribute = isPlainObject(data.Attribute)
    ? data.Attribute
    : isPlainObject(sighting.Attribute)
    ? sighting.Attribute
    : undefined;
  if (attribute !== undefined) event = placeAttribute(event, attribute, { object: objectOf(data) });
  return toCoreFormat(eventRecord(data, event), { trigger });
}

/**
 * `shadow-attribute-before-save` / `-after-save`: an edit proposal (`old_id` set) goes under its
 * attribute (`Attribute.ShadowAttribute = [proposal]`), a new-attribute proposal under the event
 * (`Event.ShadowAttribute = [proposal]`). Missing attribute or event rows are reduced to the ids
 * the proposal carries.
 */
export function normalizeShadowAttribute(raw: unknown, trigger: string): JsonObject {
  const data = requireObject(raw, trigger);
  if (isCoreFormat(data)) return data;
  const proposal = requireRow({ data, trigger }, "ShadowAttribute");
  const fallback = definedFields({ id: proposal.event_id, uuid: proposal.event_uuid });
  if (!isPhpEmpty(proposal.old_id)) {
    const attribute = isPlainObject(data.Attribute)
      ? data.Attribute
      : definedFields({ id: proposal.old_id, event_id: proposal.event_id, object_id: "0" });
    const event = placeAttribute(
      requireEvent({ data, trigger }, fallback),
      { ...attribute, ShadowAttribute: [proposal] },
      { object: objectOf(data) },
    );
    return toCoreFormat(eventRecord(data, event), { trigger });
  }
  const event = { ...requireEvent({ data, trigger }, fallback), ShadowAttribute: [proposal] };
  return toCoreFormat(eventRecord(data, event), { trigger });
}

/** `event-report-after-save`: the report's event with `Event.EventReport = [report]`. */
export function normalizeEventReport(raw: unknown, trigger: string): JsonObject {
  const data = requireObject(raw, trigger);
  if (isCoreFormat(data)) return data;
  const report = requireRow({ data, trigger }, "EventReport");
  const event = {
    ...requireEvent({ data, trigger }, { id: report.event_id }),
    EventReport: [report],
  };
  return toCoreFormat(eventRecord(data, event), { trigger });
}

/**
 * `analyst-data-after-save`: the Note, Opinion or Relationship attached to its event as
 * `Event.<Type> = [analystData]` (reference §13).
 */
export function normalizeAnalystData(raw: unknown, trigger: string): JsonObject {
  const data = requireObject(raw, trigger);
  if (isCoreFormat(data)) return data;
  const type = Object.keys(data).find((key) =>
    (ANALYST_DATA_TYPES as readonly string[]).includes(key) && isPlainObject(data[key])
  );
  if (type === undefined) {
    throw normalizationFailure(
      trigger,
      `no "Note", "Opinion" or "Relationship" object found (${describeKeys(data)})`,
    );
  }
  const analystData = data[type] as JsonObject;
  const parentType = analystData.object_type;
  if (!ANALYST_PARENT_TYPES.includes(String(parentType))) {
    throw normalizationFailure(
      trigger,
      `"${type}.object_type" is ${JSON.stringify(parentType ?? null)}, expected one of ${
        ANALYST_PARENT_TYPES.map((t) => JSON.stringify(t)).join(", ")
      }`,
    );
  }
  const fallback = parentType === "Event"
    ? { uuid: analystData.object_uuid }
    : { id: parentEventId(data) };
  const event = { ...requireEvent({ data, trigger }, fallback), [type]: [analystData] };
  return toCoreFormat(eventRecord(data, event), { trigger });
}

/**
 * `post-after-save` (not core format): the data as given, `Thread` set (`[]` when unknown) and,
 * when an `Event` is given, that event converted to core format.
 */
export function normalizePost(raw: unknown, trigger: string): JsonObject {
  const data = requireObject(raw, trigger);
  requireRow({ data, trigger }, "Post");
  const normalized: JsonObject = { ...data };
  normalized.Thread = isPlainObject(data.Thread) || Array.isArray(data.Thread) ? data.Thread : [];
  if (isPlainObject(data.Event)) {
    normalized.Event = toCoreFormat({ Event: data.Event }, { trigger }).Event;
  }
  return normalized;
}

/** User and log triggers: the data passes through unchanged (it must still be a JSON object). */
export function passThrough(raw: unknown, trigger: string): JsonObject {
  return requireObject(raw, trigger);
}

/** The trigger's own row (`Tag`, `Sighting`…): a non-empty object, as MISP requires. */
function requireRow({ data, trigger }: TriggerInput, key: string): JsonObject {
  const row = data[key];
  if (isPlainObject(row) && !isPhpEmpty(row)) return row;
  throw normalizationFailure(trigger, `no "${key}" object found (${describeKeys(data)})`);
}

/** The given `Event` row, or the event known only by the fields in `fallback`. */
function requireEvent({ data, trigger }: TriggerInput, fallback: JsonObject): JsonObject {
  if (isPlainObject(data.Event)) return data.Event;
  const known = definedFields(fallback);
  if (Object.keys(known).length > 0) return known;
  throw normalizationFailure(
    trigger,
    `no "Event" object and no event id found (${describeKeys(data)})`,
  );
}

/** The event plus the top-level event rows (`EventTag`, `Orgc`…) that came with it. */
function eventRecord(data: JsonObject, event: JsonObject): JsonObject {
  const record: JsonObject = { Event: event };
  for (const key of EVENT_CONTEXT_KEYS) {
    if (isSet(data[key])) record[key] = data[key];
  }
  for (const key in data) {
    if (key.startsWith("_")) record[key] = data[key];
  }
  return record;
}

function objectOf(data: JsonObject): JsonObject | undefined {
  return isPlainObject(data.Object) && !isPhpEmpty(data.Object) ? data.Object : undefined;
}

/** The event id of analyst data attached to an attribute, object or report given alongside. */
function parentEventId(data: JsonObject): unknown {
  for (const key of ["Attribute", "Object", "EventReport"]) {
    const parent = data[key];
    if (isPlainObject(parent) && isSet(parent.event_id)) return parent.event_id;
  }
  return undefined;
}

/** Drops undefined and null fields; ids are kept as MISP sends them. */
function definedFields(fields: JsonObject): JsonObject {
  const defined: JsonObject = {};
  for (const key in fields) {
    if (isSet(fields[key])) defined[key] = fields[key];
  }
  return defined;
}
