/**
 * Request bodies of the HTTP benchmark: MISP `/query` bodies carrying events of 1,000 and 10,000
 * attributes (half of them tagged `tlp:red`), the small single-attribute payload MISP sends per
 * attribute on `attribute-after-save`, and webhooks of the sample event, each request a new one.
 *
 * @module
 */

import type { JsonObject } from "../engine/model.ts";
import { toCoreFormat } from "../triggers/core_format.ts";
import { randomEvent } from "../tests/fixtures/random_event.ts";

const encoder = new TextEncoder();

/** The sample event a webhook carries (a real MISP event export). */
const SAMPLE_EVENT = new URL(
  "../../shared/data/misp-event-pymisp-sighting_2.json",
  import.meta.url,
);

/** `Event.info` of generated events, rewritten in place to make a body new. */
const INFO_PLACEHOLDER = "bench-event-000000000000";

/** One request body and the answer it must get from a gate. */
export interface GateBody {
  bytes: Uint8Array<ArrayBuffer>;
  /** The event is tagged `tlp:red`: a gate blocks it. */
  red: boolean;
}

/** Bodies of one kind, handed out in turn. */
export interface BodySource {
  label: string;
  /** Size of one body in bytes. */
  bytes: number;
  next(): GateBody;
}

/** How the event is shaped: MISP's core format (what MISP sends `/query`) or its REST export. */
export type EventShape = "core" | "export";

/** Options of `queryBodies`. */
export interface QueryBodiesOptions {
  attributes: number;
  shape: EventShape;
  /** The misp-modules module name (`flowgate_<trigger>`). */
  module: string;
  /** Distinct events sent in turn (half of them `tlp:red`). */
  events: number;
  /** Every request gets a body never sent before (its `Event.info` changes). */
  fresh?: boolean;
}

/** `/query` bodies: `{"module", "data", "params"}` as MISP posts them to its Action service. */
export function queryBodies(options: QueryBodiesOptions): BodySource {
  const bodies = Array.from({ length: options.events }, (_, i) => {
    const raw = randomEvent({ attributes: options.attributes, tags: 3, seed: 7 + i }) as {
      Event: JsonObject & { Tag: JsonObject[] };
    };
    const red = i % 2 === 1;
    raw.Event.Tag[0]!.name = red ? "tlp:red" : "tlp:green";
    raw.Event.info = INFO_PLACEHOLDER;
    const data = options.shape === "core" ? toCoreFormat(raw) : raw;
    const text = JSON.stringify({ module: options.module, data, params: {} });
    return { bytes: encoder.encode(text), red };
  });
  const fresh = freshBodies(bodies);
  let turn = 0;
  return {
    label: `${options.attributes.toLocaleString("en")} attributes, ${
      options.shape === "core" ? "core format" : "REST export"
    }${options.fresh ? ", a new event each request" : ""}`,
    bytes: bodies[0]!.bytes.length,
    next: () => options.fresh ? fresh() : bodies[turn++ % bodies.length]!,
  };
}

/**
 * The single-attribute payload MISP sends `/query` for `attribute-after-save` (core format, the
 * event with the one attribute saved, about 2 KB), half of them `tlp:red`; every request is a new
 * one, as in a feed sync, so none is taken for a resend.
 */
export function smallAttributeBodies(): BodySource {
  const bodies = [false, true].map((red, i) => {
    const raw = randomEvent({ attributes: 1, tags: 1, seed: 3 + i }) as {
      Event: JsonObject & { Tag: JsonObject[] };
    };
    raw.Event.Tag[0]!.name = red ? "tlp:red" : "tlp:green";
    raw.Event.info = INFO_PLACEHOLDER;
    const data = toCoreFormat(raw);
    const text = JSON.stringify({ module: "flowgate_attribute_after_save", data, params: {} });
    return { bytes: encoder.encode(text), red };
  });
  return {
    label: "1 attribute (attribute-after-save), a new one each request",
    bytes: bodies[0]!.bytes.length,
    next: freshBodies(bodies),
  };
}

/** Hands out `bodies` in turn, each copy with a new number in its `Event.info`. */
function freshBodies(bodies: GateBody[]): () => GateBody {
  const marker = encoder.encode(INFO_PLACEHOLDER);
  const markerAt = bodies.map((body) => indexOf(body.bytes, marker));
  let turn = 0;
  return () => {
    const i = turn++ % bodies.length;
    const body = bodies[i]!;
    const bytes = body.bytes.slice();
    const digits = encoder.encode(String(turn).padStart(12, "0"));
    bytes.set(digits, markerAt[i]! + marker.length - digits.length);
    return { bytes, red: body.red };
  };
}

/** Webhook bodies: the sample MISP event, its uuid new each request so none is a resend. */
export async function webhookBodies(): Promise<BodySource> {
  const event = JSON.parse(await Deno.readTextFile(SAMPLE_EVENT)) as { Event: JsonObject };
  const template = JSON.stringify(event);
  const uuid = String(event.Event.uuid);
  let turn = 0;
  return {
    label: "sample event (misp-event-pymisp-sighting_2.json)",
    bytes: encoder.encode(template).length,
    next() {
      const suffix = String(turn++).padStart(12, "0");
      const fresh = `${uuid.slice(0, 24)}${suffix}`;
      return { bytes: encoder.encode(template.replace(uuid, fresh)), red: false };
    },
  };
}

function indexOf(bytes: Uint8Array, part: Uint8Array): number {
  for (let at = bytes.indexOf(part[0]!); at >= 0; at = bytes.indexOf(part[0]!, at + 1)) {
    if (part.every((byte, k) => bytes[at + k] === byte)) return at;
  }
  throw new Error("The event placeholder is missing from the request body");
}
