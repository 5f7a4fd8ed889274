/**
 * A short, flat description of the event in normalised trigger data, for chat cards, dedupe keys
 * and the console.
 *
 * @module
 */

import type { JsonObject } from "../engine/model.ts";
import { isPlainObject, isSet } from "./json_shape.ts";

/** The fields of an event people and keys look at; ids and numbers as MISP's strings. */
export interface EventSummary {
  uuid: string | null;
  id: string | null;
  info: string;
  /** Creator organisation name (`Orgc.name`), else its id. */
  orgc: string | null;
  /** Owner organisation name (`Org.name`), else its id. */
  org: string | null;
  published: boolean;
  timestamp: string | null;
  distribution: string | null;
  "threat_level_id": string | null;
  /** First `tlp:` event tag, lower-case (`tlp:amber`), or null. */
  tlp: string | null;
  /** First `PAP:` event tag, upper-case (`PAP:RED`), or null. */
  pap: string | null;
  /** Attributes in the data (plain and in objects), else the event's `attribute_count`. */
  "attribute_count": number;
}

const TLP_PREFIX = "tlp:";
const PAP_PREFIX = "pap:";

/**
 * Summarises the event of normalised data (`{Event: {…}}`); an event without the wrapper is read
 * too. Fields MISP did not send are null (`info` is then empty).
 */
export function eventSummary(data: JsonObject): EventSummary {
  const event = isPlainObject(data.Event) ? data.Event : data;
  const tags = eventTagNames(event);
  const tlp = tags.find((name) => name.toLowerCase().startsWith(TLP_PREFIX));
  const pap = tags.find((name) => name.toLowerCase().startsWith(PAP_PREFIX));
  return {
    uuid: text(event.uuid),
    id: text(event.id),
    info: text(event.info) ?? "",
    orgc: orgName(event.Orgc) ?? text(event.orgc_id),
    org: orgName(event.Org) ?? text(event.org_id),
    published: isPublished(event.published),
    timestamp: text(event.timestamp),
    distribution: text(event.distribution),
    "threat_level_id": text(event.threat_level_id),
    tlp: tlp === undefined ? null : tlp.toLowerCase(),
    pap: pap === undefined ? null : `PAP:${pap.slice(PAP_PREFIX.length).toUpperCase()}`,
    "attribute_count": countAttributes(event),
  };
}

function eventTagNames(event: JsonObject): string[] {
  const names: string[] = [];
  if (Array.isArray(event.Tag)) {
    for (const tag of event.Tag) {
      if (isPlainObject(tag) && typeof tag.name === "string") names.push(tag.name.trim());
    }
  }
  return names;
}

function countAttributes(event: JsonObject): number {
  if (Array.isArray(event._AttributeFlattened) && event._AttributeFlattened.length > 0) {
    return event._AttributeFlattened.length;
  }
  let count = Array.isArray(event.Attribute) ? event.Attribute.length : 0;
  if (Array.isArray(event.Object)) {
    for (const object of event.Object) {
      if (isPlainObject(object) && Array.isArray(object.Attribute)) {
        count += object.Attribute.length;
      }
    }
  }
  if (count > 0) return count;
  const declared = Number(text(event.attribute_count) ?? Number.NaN);
  return Number.isInteger(declared) && declared >= 0 ? declared : 0;
}

/** MISP sends `published` as a boolean, `"1"`/`"0"` or 1/0. */
function isPublished(value: unknown): boolean {
  return value === true || value === 1 || value === "1" || value === "true";
}

function orgName(value: unknown): string | null {
  return isPlainObject(value) ? text(value.name) : null;
}

function text(value: unknown): string | null {
  if (!isSet(value)) return null;
  if (typeof value === "string") return value;
  return typeof value === "number" || typeof value === "boolean" ? String(value) : null;
}
