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

/** A piece of output already serialised, as opposed to a value still to serialise. */
class Text {
  constructor(readonly text: string) {}
}

const COMMA = new Text(",");
const CLOSE_LIST = new Text("]");
const CLOSE_OBJECT = new Text("}");

/**
 * Canonical JSON of `root` (keys sorted, volatile keys left out), built with an explicit stack
 * rather than recursion so that data nested thousands of levels deep cannot overflow the stack.
 */
function contentJson(root: unknown): string {
  const out: string[] = [];
  // Popped from the end: pieces are pushed in reverse order.
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const item = pending.pop();
    if (item instanceof Text) {
      out.push(item.text);
    } else if (Array.isArray(item)) {
      out.push("[");
      pending.push(CLOSE_LIST);
      for (let index = item.length - 1; index >= 0; index--) {
        pending.push(item[index]);
        if (index > 0) pending.push(COMMA);
      }
    } else if (item !== null && typeof item === "object") {
      const record = item as Record<string, unknown>;
      const keys = Object.keys(record).filter((key) => !VOLATILE_EVENT_KEYS.has(key)).sort();
      out.push("{");
      pending.push(CLOSE_OBJECT);
      for (let index = keys.length - 1; index >= 0; index--) {
        const key = keys[index] as string;
        pending.push(record[key]);
        pending.push(new Text(`${index > 0 ? "," : ""}${JSON.stringify(key)}:`));
      }
    } else {
      out.push(JSON.stringify(item) ?? "null");
    }
  }
  return out.join("");
}
