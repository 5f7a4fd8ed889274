/**
 * Factories for store tests: workflows, runs with traces, and the real MISP events of
 * `../shared/data/`.
 *
 * @module
 */

import { ulid } from "ulid";
import type { JsonObject, TraceEntry, Workflow } from "../../engine/model.ts";
import type { RunRecord } from "../../store/types.ts";

/** A small valid-looking workflow: trigger node, a tag-if and a stop-execution. */
export function makeWorkflow(overrides: Partial<Workflow> = {}): Workflow {
  return {
    name: "block-red",
    description: "Blocks TLP:RED publications",
    trigger: "event-publish",
    enabled: true,
    order: 0,
    "on_timeout": "block",
    nodes: [
      { id: "trigger", module: "event-publish", kind: "trigger", params: {}, next: [["tlp"]] },
      {
        id: "tlp",
        module: "tag-if",
        kind: "logic",
        params: { scope: "event", condition: "in_or", tags: ["tlp:red"] },
        next: [["stop"], []],
      },
      {
        id: "stop",
        module: "stop-execution",
        kind: "action",
        params: { message: "red" },
        next: [],
      },
    ],
    ...overrides,
  };
}

/** One trace entry; `note` pads it to make big traces. */
export function makeTraceEntry(seq: number, note = ""): TraceEntry {
  return {
    seq,
    "node_id": `n${seq}`,
    module: "tag-if",
    kind: "logic",
    status: "success",
    branch: "then",
    result: true,
    errors: [],
    "duration_ms": 0.1,
    ...(note ? { note } : {}),
    path: [String(seq)],
  };
}

/** A run record with a 5-node trace; fields overridable. */
export function makeRun(overrides: Partial<RunRecord> = {}): RunRecord {
  const id = overrides.id ?? ulid();
  return {
    id,
    "workflow_id": "wf-1",
    "workflow_name": "block-red",
    "workflow_version": 1,
    trigger: "event-publish",
    actor: { kind: "misp" },
    "started_at": new Date().toISOString(),
    "finished_at": new Date().toISOString(),
    "duration_ms": 1.5,
    outcome: "success",
    success: true,
    errors: [],
    "dry_run": false,
    "input_hash": "",
    trace: [0, 1, 2, 3, 4].map((seq) => makeTraceEntry(seq)),
    ...overrides,
  };
}

/** Reads a real MISP event from `../shared/data/`. */
export async function loadEvent(name = "misp-event-pymisp-sighting_2.json"): Promise<JsonObject> {
  const url = new URL(`../../../shared/data/${name}`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url)) as JsonObject;
}

/** An event with `count` attributes, built from a real event's first attribute. */
export async function eventWithAttributes(count: number): Promise<JsonObject> {
  const source = await loadEvent();
  const event = structuredClone(source.Event) as JsonObject & { Attribute: JsonObject[] };
  const template = event.Attribute[0] ?? {};
  event.Attribute = Array.from({ length: count }, (_, i) => ({
    ...template,
    id: String(i + 1),
    uuid: crypto.randomUUID(),
    value: `198.51.100.${i % 256}`,
  }));
  return { Event: event };
}
