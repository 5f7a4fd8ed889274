import assert from "node:assert/strict";
import { addDeadLetter, deadLetterKey } from "../../store/dead_letters.ts";
import { recordIntake } from "../../store/intake.ts";
import { countQueueDepth } from "../../store/queue_depth.ts";
import { enqueueJob, intakeWorkId, jobWorkId, markWorkDone } from "../../store/queue_jobs.ts";
import { saveRun } from "../../store/runs.ts";
import { makeRun } from "./fixtures.ts";

async function intake(kv: Deno.Kv, runIds: string[]): Promise<string> {
  const result = await recordIntake(kv, {
    trigger: "event-after-save",
    dedupeKey: crypto.randomUUID(),
    payload: { Event: { info: "x" } },
    runIds,
    windowMs: 60_000,
  });
  return result.intakeId;
}

Deno.test("countQueueDepth() counts the intakes and jobs not finished, from KV", async (t) => {
  using kv = await Deno.openKv(":memory:");
  await t.step("an empty store has depth 0", async () => {
    assert.equal(await countQueueDepth(kv), 0);
  });

  const done = await intake(kv, [makeRun().id]);
  const deadLettered = await intake(kv, [makeRun().id]);
  const legacyRun = makeRun();
  await intake(kv, [legacyRun.id]);
  await intake(kv, [makeRun().id]);
  const job = await enqueueJob(kv, { kind: "retry", payload: { big: "x".repeat(100_000) } });
  await t.step("accepted work counts until it is finished", async () => {
    assert.equal(await countQueueDepth(kv), 5);
  });

  await markWorkDone(kv, intakeWorkId(done));
  // The queue gave up on it: `keysIfUndelivered` wrote the raw message there.
  await kv.set(deadLetterKey(deadLettered), { type: "intake", intake_id: deadLettered });
  // Taken in before done markers existed: finished once its runs are stored.
  await saveRun(kv, legacyRun, { input: {}, retentionDays: 1 });
  await markWorkDone(kv, jobWorkId(job));
  await t.step("done markers, dead letters and stored runs finish work", async () => {
    assert.equal(await countQueueDepth(kv), 1);
  });

  await t.step("the scan is bounded", async () => {
    await addDeadLetter(kv, { kind: "x", payload: null, error: "x", attempts: 1 });
    for (let i = 0; i < 5; i++) await intake(kv, [makeRun().id]);
    assert.equal(await countQueueDepth(kv, { maxScan: 3 }), 3);
    assert.equal(await countQueueDepth(kv), 6);
  });
});
