import assert from "node:assert/strict";
import { recordIntake } from "../../store/intake.ts";
import { requeueUnfinishedIntakes } from "../../store/intake_recovery.ts";
import { saveRun } from "../../store/runs.ts";
import type { IntakeMessage } from "../../store/types.ts";
import { makeRun } from "./fixtures.ts";

Deno.test("requeueUnfinishedIntakes() enqueues again only intakes whose runs are missing", async () => {
  using kv = await Deno.openKv(":memory:");
  const started = new Date();
  const done = await recordIntake(kv, {
    trigger: "event-after-save",
    dedupeKey: "done",
    payload: {},
    runIds: ["01J00000000000000000000001"],
    windowMs: 1_000,
  });
  const lost = await recordIntake(kv, {
    trigger: "event-after-save",
    dedupeKey: "lost",
    payload: {},
    runIds: ["01J00000000000000000000002"],
    windowMs: 1_000,
  });
  await saveRun(kv, makeRun({ id: "01J00000000000000000000001" }), { input: {} });

  const delivered: IntakeMessage[] = [];
  const listener = kv.listenQueue((message) => {
    delivered.push(message as IntakeMessage);
  });
  const report = await requeueUnfinishedIntakes(kv, {
    since: new Date(started.getTime() - 1_000),
    until: new Date(Date.now() + 1_000),
  });
  assert.equal(report.scanned, 2);
  assert.deepEqual(report.requeued, [lost.intakeId]);
  const deadline = Date.now() + 5_000;
  // Both original messages plus the requeued one.
  while (delivered.length < 3 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(delivered.filter((message) => message.intake_id === lost.intakeId).length, 2);
  assert.equal(delivered.filter((message) => message.intake_id === done.intakeId).length, 1);
  kv.close();
  await listener;
});
