/**
 * Store benchmarks: saving a 5-node run with a 1,000-attribute input (alone and grouped), and the
 * verdict path's `listEnabledWorkflows` with a warm cache, next to the bare revision `kv.get` it
 * costs (the part a `kv.watch`-based cache would save).
 *
 * `FLOWGATE_BENCH_KV` names a KV file to measure real fsync-bound commits (needs --allow-write);
 * the default is an in-memory KV.
 *
 * @module
 */

import { ulid } from "ulid";
import type { JsonObject, TraceEntry } from "../engine/model.ts";
import { saveRun, saveRuns } from "../store/runs.ts";
import type { RunRecord } from "../store/types.ts";
import { createWorkflow, listEnabledWorkflows } from "../store/workflows.ts";

const kv = await Deno.openKv(Deno.env.get("FLOWGATE_BENCH_KV") || ":memory:");

const source = JSON.parse(
  await Deno.readTextFile(
    new URL("../../shared/data/misp-event-pymisp-sighting_2.json", import.meta.url),
  ),
) as { Event: JsonObject & { Attribute: JsonObject[] } };
// Flat attributes (no galaxies or sightings), about 250 bytes each, as the reference's 214 KB event.
const { Galaxy: _galaxy, Sighting: _sighting, ShadowAttribute: _shadow, Tag: _tag, ...template } =
  source.Event.Attribute[0] ?? {};
const input = {
  Event: {
    ...source.Event,
    Attribute: Array.from({ length: 1_000 }, (_, i) => ({
      ...template,
      id: String(i + 1),
      uuid: crypto.randomUUID(),
      value: `198.51.100.${i % 256}`,
    })),
  },
};

function trace(): TraceEntry[] {
  return Array.from({ length: 5 }, (_, seq) => ({
    seq,
    "node_id": String(seq + 1),
    module: seq === 0 ? "event-publish" : "tag-if",
    kind: seq === 0 ? "trigger" : "logic",
    status: "success",
    branch: "then",
    result: true,
    errors: [],
    "duration_ms": 0.05,
    observed: { tags: ["tlp:green"] },
    path: [String(seq)],
  }));
}

function run(): RunRecord {
  const now = new Date().toISOString();
  return {
    id: ulid(),
    "workflow_id": "wf",
    "workflow_name": "bench",
    "workflow_version": 1,
    trigger: "event-publish",
    actor: { kind: "misp" },
    "started_at": now,
    "finished_at": now,
    "duration_ms": 1,
    outcome: "success",
    success: true,
    errors: [],
    "dry_run": false,
    event: { uuid: String(source.Event.uuid) },
    "input_hash": "",
    trace: trace(),
  };
}

for (let i = 0; i < 5; i++) {
  await createWorkflow(kv, {
    name: `bench-${i}`,
    description: "",
    trigger: "event-publish",
    enabled: i !== 2,
    order: i,
    "on_timeout": "block",
    nodes: [{ id: "1", module: "event-publish", kind: "trigger", params: {}, next: [] }],
  }, { actor: "bench", sourceFormat: "yaml" });
}
await listEnabledWorkflows(kv, "event-publish");

Deno.bench("saveRun(): 5-node run, 1,000-attribute input", { group: "save" }, async () => {
  await saveRun(kv, run(), { input, retentionDays: 1 });
});

const inputJson = JSON.stringify(input);

Deno.bench("saveRun(): same, with the request body as inputJson", { group: "save" }, async () => {
  await saveRun(kv, run(), { input, inputJson, retentionDays: 1 });
});

Deno.bench(
  "saveRuns(): 4 such runs in one group commit (per call)",
  { group: "save" },
  async () => {
    await saveRuns(kv, [run(), run(), run(), run()].map((r) => ({ run: r, input })), {
      retentionDays: 1,
    });
  },
);

Deno.bench("listEnabledWorkflows(): warm cache", { group: "enabled" }, async () => {
  await listEnabledWorkflows(kv, "event-publish");
});

Deno.bench("kv.get of the revision counter alone", { group: "enabled" }, async () => {
  await kv.get(["workflows_revision"]);
});
