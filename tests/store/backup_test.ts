import assert from "node:assert/strict";
import { appendAudit } from "../../store/audit.ts";
import { BackupFormatError, exportBackup, importBackup } from "../../store/backup.ts";
import { saveRuns } from "../../store/runs.ts";
import {
  createWorkflow,
  getWorkflow,
  listEnabledWorkflows,
  replaceWorkflow,
  setWorkflowEnabled,
} from "../../store/workflows.ts";
import {
  eventWithAttributes,
  loadEvent,
  makeRun,
  makeTraceEntry,
  makeWorkflow,
} from "./fixtures.ts";

const SAVE = { actor: "api:admin", sourceFormat: "yaml" } as const;
const NOW = new Date("2026-11-28T09:00:00Z");

/** A store with two workflows (one with three versions), runs big and small, approvals and audit. */
async function seed(kv: Deno.Kv): Promise<void> {
  const a = await createWorkflow(kv, makeWorkflow({ name: "a" }), SAVE);
  await replaceWorkflow(kv, a.id, makeWorkflow({ name: "a", order: 3 }), SAVE);
  await setWorkflowEnabled(kv, a.id, false, { actor: "slack:U1", until: "2030-01-01T00:00:00Z" });
  await createWorkflow(kv, makeWorkflow({ name: "b", trigger: "attribute-after-save" }), SAVE);
  const event = await loadEvent();
  const big = await eventWithAttributes(2_000);
  const bigTrace = Array.from({ length: 20 }, (_, i) => makeTraceEntry(i, "t".repeat(5_000)));
  await saveRuns(kv, [
    { run: makeRun({ event: { uuid: "ev-1" } }), input: event },
    { run: makeRun({ outcome: "blocked", success: false, trace: bigTrace }), input: big },
    { run: makeRun(), input: event },
  ]);
  await kv.set(["approvals", "01J00000000000000000000000"], {
    status: "pending",
    bytes: new Uint8Array([1, 2, 3]),
    count: 7n,
    at: new Date("2026-11-28T08:00:00Z"),
  });
  await kv.set(["approvals_by_run", "r1"], "not an approval: outside the prefix");
  await kv.set(["approvals", "counter"], new Deno.KvU64(5n));
  await appendAudit(kv, { actor: "api:admin", action: "workflow.create", target: a.id });
  await appendAudit(kv, {
    actor: "slack:U1@C1",
    action: "workflow.disable",
    details: { until: "x" },
  });
}

/** Every key and value of the backed-up families, for comparing two stores. */
async function dump(kv: Deno.Kv): Promise<[Deno.KvKey, unknown][]> {
  const prefixes = [
    "workflows",
    "workflows_by_name",
    "workflows_by_trigger",
    "workflow_versions",
    "runs",
    "run_traces",
    "run_inputs",
    "runs_by_workflow",
    "runs_by_trigger",
    "runs_by_outcome",
    "runs_by_event",
    "runs_by_event_id",
    "approvals",
    "audit",
  ];
  const entries: [Deno.KvKey, unknown][] = [];
  for (const prefix of prefixes) {
    for await (const entry of kv.list({ prefix: [prefix] })) entries.push([entry.key, entry.value]);
  }
  return entries;
}

async function backupLines(kv: Deno.Kv): Promise<string[]> {
  return await Array.fromAsync(exportBackup(kv, { now: NOW }));
}

Deno.test("exportBackup() then importBackup() into a fresh KV gives equal data", async () => {
  using source = await Deno.openKv(":memory:");
  using target = await Deno.openKv(":memory:");
  await seed(source);
  const lines = await backupLines(source);
  assert.equal(JSON.parse(lines[0]!).type, "flowgate-backup");
  const counts = await importBackup(target, lines);
  assert.deepEqual(counts, { workflows: 2, workflow_versions: 4, runs: 3, approvals: 2, audit: 2 });
  assert.deepEqual(JSON.parse(lines.at(-1)!), { type: "end", counts });
  assert.deepEqual(await dump(target), await dump(source));
  assert.deepEqual(await backupLines(target), lines);
  assert.deepEqual(
    (await listEnabledWorkflows(target, "attribute-after-save")).map((w) => w.name),
    ["b"],
  );
});

Deno.test("importBackup() is idempotent", async () => {
  using source = await Deno.openKv(":memory:");
  using target = await Deno.openKv(":memory:");
  await seed(source);
  const lines = await backupLines(source);
  await importBackup(target, lines);
  const once = await dump(target);
  const revision = (await target.get(["workflows_revision"])).versionstamp;
  await importBackup(target, lines);
  assert.deepEqual(await dump(target), once);
  assert.equal((await target.get(["workflows_revision"])).versionstamp, revision);
});

Deno.test("importBackup() refuses what is not a Flowgate backup", async (t) => {
  using kv = await Deno.openKv(":memory:");
  const refuse = (lines: string[], pattern: RegExp) =>
    assert.rejects(() => importBackup(kv, lines), (error: Error) => {
      assert.ok(error instanceof BackupFormatError);
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes("\n"));
      return true;
    });
  await t.step("a MISP event", async () => {
    const text = await Deno.readTextFile(
      new URL("../../../shared/data/misp-event-pymisp-sighting_2.json", import.meta.url),
    );
    await refuse(text.split("\n"), /^Cannot restore: the file is not a Flowgate backup/);
  });
  await t.step("an empty file", () => refuse([], /is not a Flowgate backup/));
  await t.step(
    "JSON lines of another kind",
    () => refuse(['{"type":"run"}'], /is not a Flowgate backup/),
  );
  await t.step("an unknown record type", () =>
    refuse(
      ['{"type":"flowgate-backup","format_version":1,"created_at":""}', '{"type":"nope"}'],
      /line 2 has unknown type "nope"/,
    ));
  await t.step(
    "a truncated backup",
    () => refuse(['{"type":"flowgate-backup","format_version":1,"created_at":""}'], /is truncated/),
  );
  assert.equal(await getWorkflow(kv, "a"), null);
});
