/**
 * A fingerprint of an event's content, so an approval covers exactly the event that was shown: any
 * edit (attribute, tag, info, distribution…) gives another fingerprint, while fields MISP changes
 * on its own (publication flags, sightings, correlations) do not count.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { JsonObject } from "./model.ts";

/**
 * Keys left out at every depth: publication state and data MISP derives from other events
 * (correlations, sightings), which change without anyone editing the event.
 */
export const VOLATILE_EVENT_KEYS: ReadonlySet<string> = new Set([
  "published",
  "publish_timestamp",
  "sighting_timestamp",
  "RelatedEvent",
  "RelatedAttribute",
  "Sighting",
  "_AttributeFlattened",
]);

/**
 * SHA-256 hex of the event's content (`data.Event`, or the whole data when it has no event), keys
 * sorted, volatile keys left out.
 */
export function eventFingerprint(data: JsonObject): string {
  const event = data.Event;
  const subject = event !== null && typeof event === "object" && !Array.isArray(event)
    ? event
    : data;
  return createHash("sha256").update(contentJson(subject)).digest("hex");
}

function contentJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(contentJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).filter((key) => !VOLATILE_EVENT_KEYS.has(key)).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${contentJson(record[key])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
