import assert from "node:assert/strict";
import { getIntake, getIntakePayload, recordIntake } from "../../store/intake.ts";
import type { IntakeMessage } from "../../store/types.ts";
import { eventWithAttributes, loadEvent } from "./fixtures.ts";

Deno.test("recordIntake() enqueues its message in the same commit as the record", async () => {
  const kv = await Deno.openKv(":memory:");
  const received = Promise.withResolvers<IntakeMessage>();
  const listening = kv.listenQueue((message) => received.resolve(message as IntakeMessage));
  const payload = await loadEvent();
  const result = await recordIntake(kv, {
    trigger: "event-publish",
    dedupeKey: "ev-1:1",
    payload,
    runIds: ["r1", "r2"],
    windowMs: 60_000,
  });
  assert.deepEqual({ duplicate: result.duplicate, runIds: result.runIds }, {
    duplicate: false,
    runIds: ["r1", "r2"],
  });
  const message = await received.promise;
  assert.deepEqual(message, {
    type: "intake",
    "intake_id": result.intakeId,
    trigger: "event-publish",
    "run_ids": ["r1", "r2"],
  });
  const record = await getIntake(kv, message.intake_id);
  assert.equal(record?.dedupe_key, "ev-1:1");
  assert.deepEqual(await getIntakePayload(kv, message.intake_id), payload);
  kv.close();
  await listening;
});

Deno.test("recordIntake() answers a resend inside the window with the first run ids", async (t) => {
  using kv = await Deno.openKv(":memory:");
  const options = {
    trigger: "event-publish",
    dedupeKey: "ev-1:1",
    payload: { a: 1 },
    windowMs: 60_000,
  };
  const first = await recordIntake(kv, { ...options, runIds: ["r1"] });
  await t.step("resend: duplicate, nothing new recorded", async () => {
    const again = await recordIntake(kv, { ...options, runIds: ["r9"] });
    assert.deepEqual(again, { duplicate: true, runIds: ["r1"], intakeId: first.intakeId });
    assert.equal((await Array.fromAsync(kv.list({ prefix: ["intakes"] }))).length, 1);
  });
  await t.step("concurrent resends: exactly one is recorded", async () => {
    const results = await Promise.all(
      ["a", "b", "c"].map((id) =>
        recordIntake(kv, { ...options, dedupeKey: "ev-2:1", runIds: [id] })
      ),
    );
    assert.equal(results.filter((result) => !result.duplicate).length, 1);
    const winner = results.find((result) => !result.duplicate)!;
    assert.ok(results.every((result) => result.runIds[0] === winner.runIds[0]));
  });
  await t.step("other trigger or key: not a duplicate", async () => {
    assert.equal(
      (await recordIntake(kv, { ...options, trigger: "x", runIds: ["r2"] })).duplicate,
      false,
    );
    assert.equal(
      (await recordIntake(kv, { ...options, dedupeKey: "ev-1:2", runIds: ["r3"] })).duplicate,
      false,
    );
  });
  await t.step("after the window (checked on read): recorded again", async () => {
    const later = new Date(Date.now() + 61_000);
    const after = await recordIntake(kv, { ...options, runIds: ["r4"], now: later });
    assert.equal(after.duplicate, false);
    assert.deepEqual(after.runIds, ["r4"]);
  });
});

Deno.test("recordIntake() stores a payload larger than one commit", async () => {
  using kv = await Deno.openKv(":memory:");
  const payload = await eventWithAttributes(6_000);
  const result = await recordIntake(kv, {
    trigger: "event-publish",
    dedupeKey: "big",
    payload,
    runIds: ["r1"],
    windowMs: 1_000,
  });
  const record = await getIntake(kv, result.intakeId);
  assert.ok(record!.payload_bytes > 819_200);
  assert.deepEqual(await getIntakePayload(kv, result.intakeId), payload);
});
