import assert from "node:assert/strict";
import { getIntake } from "../../store/intake.ts";
import { BATCH_PAYLOAD_BUDGET_BYTES, recordIntakes } from "../../store/intake_batch.ts";
import { KEY_INTAKE_DEDUPE, KEY_INTAKES, KEY_WORKFLOWS_REVISION } from "../../store/keys.ts";
import { createWorkflow } from "../../store/workflows.ts";
import { makeWorkflow } from "./fixtures.ts";

const SAVE = { actor: "api:admin", sourceFormat: "yaml" } as const;

function item(key: string, workflowsRevision: string | null, payload: unknown = { key }) {
  return {
    trigger: "event-after-save",
    dedupeKey: key,
    payload,
    runIds: [`run-${key}`],
    windowMs: 600_000,
    workflowsRevision,
  };
}

async function revisionOf(kv: Deno.Kv): Promise<string | null> {
  return (await kv.get([KEY_WORKFLOWS_REVISION])).versionstamp;
}

async function intakeCount(kv: Deno.Kv): Promise<number> {
  return (await Array.fromAsync(kv.list({ prefix: [KEY_INTAKES] }))).length;
}

Deno.test("recordIntakes() records intakes of the current workflows revision and refuses stale ones", async (t) => {
  using kv = await Deno.openKv(":memory:");
  const never = await revisionOf(kv);
  assert.equal(never, null);
  await t.step("no workflow ever written: the null revision is current", async () => {
    const [result] = await recordIntakes(kv, [item("a", never)]);
    assert.equal(result!.stale, undefined);
    assert.equal((await getIntake(kv, result!.intakeId))?.dedupe_key, "a");
  });
  await createWorkflow(kv, makeWorkflow({ trigger: "event-after-save" }), SAVE);
  await t.step("a workflow written since: stale, nothing recorded", async () => {
    const before = await intakeCount(kv);
    const [result] = await recordIntakes(kv, [item("b", never)]);
    assert.equal(result!.stale, true);
    assert.deepEqual(result!.runIds, []);
    assert.equal(await intakeCount(kv), before);
    assert.equal((await kv.get([KEY_INTAKE_DEDUPE, "event-after-save", "b"])).value, null);
  });
  await t.step("the revision read now: recorded", async () => {
    const [result] = await recordIntakes(kv, [item("b", await revisionOf(kv))]);
    assert.equal(result!.stale, undefined);
    assert.equal(result!.duplicate, false);
  });
});

Deno.test("recordIntakes() answers stale only the intakes of an older revision in a batch", async () => {
  using kv = await Deno.openKv(":memory:");
  await createWorkflow(kv, makeWorkflow({ name: "one", trigger: "event-after-save" }), SAVE);
  const old = await revisionOf(kv);
  await createWorkflow(kv, makeWorkflow({ name: "two", trigger: "event-after-save" }), SAVE);
  const current = await revisionOf(kv);
  const results = await recordIntakes(kv, [
    item("old", old),
    item("current", current),
    { ...item("unchecked", null), workflowsRevision: undefined },
    item("old", old), // the same key again: stale like its first
  ]);
  assert.deepEqual(results.map((result) => result.stale ?? false), [true, false, false, true]);
  assert.equal(results[1]!.duplicate, false);
  assert.equal(results[2]!.duplicate, false);
  assert.equal(await intakeCount(kv), 2);
});

Deno.test("recordIntakes() checks an intake too big for a batch against a read of the revision", async () => {
  using kv = await Deno.openKv(":memory:");
  const never = await revisionOf(kv);
  await createWorkflow(kv, makeWorkflow({ trigger: "event-after-save" }), SAVE);
  const big = { blob: "x".repeat(BATCH_PAYLOAD_BUDGET_BYTES + 10) };
  const [stale, fresh] = await recordIntakes(kv, [
    item("big-old", never, big),
    item("big-new", await revisionOf(kv), big),
  ]);
  assert.equal(stale!.stale, true);
  assert.equal(fresh!.stale, undefined);
  assert.equal(await intakeCount(kv), 1);
});
