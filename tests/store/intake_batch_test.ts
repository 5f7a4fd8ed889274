import assert from "node:assert/strict";
import { getIntake, getIntakePayload, recordIntake } from "../../store/intake.ts";
import { BATCH_PAYLOAD_BUDGET_BYTES, recordIntakes } from "../../store/intake_batch.ts";
import type { IntakeMessage } from "../../store/types.ts";

const WINDOW_MS = 600_000;

function item(key: string, payload: unknown = { Event: { uuid: key } }) {
  return {
    trigger: "event-after-save",
    dedupeKey: key,
    payload,
    runIds: [`run-${key}`],
    windowMs: WINDOW_MS,
  };
}

Deno.test("recordIntakes() commits many intakes with their queue messages and dedupes", async (t) => {
  using kv = await Deno.openKv(":memory:");
  const delivered: IntakeMessage[] = [];
  const listener = kv.listenQueue((message) => {
    delivered.push(message as IntakeMessage);
  });
  await recordIntake(kv, item("seen"));

  const items = [
    ...Array.from({ length: 23 }, (_, i) => item(`k${i}`)),
    item("seen"),
    item("k3", { Event: { uuid: "k3-again" } }),
    item("big", { blob: "x".repeat(BATCH_PAYLOAD_BUDGET_BYTES + 10) }),
  ];
  const results = await recordIntakes(kv, items);

  await t.step("fresh intakes are recorded with their payloads", async () => {
    for (let i = 0; i < 23; i++) {
      const result = results[i]!;
      assert.equal(result.duplicate, false);
      assert.deepEqual(result.runIds, [`run-k${i}`]);
      assert.deepEqual(await getIntakePayload(kv, result.intakeId), { Event: { uuid: `k${i}` } });
      assert.equal((await getIntake(kv, result.intakeId))?.trigger, "event-after-save");
    }
  });
  await t.step(
    "a key recorded before, or twice in the batch, is a duplicate with the first ids",
    () => {
      assert.equal(results[23]!.duplicate, true);
      assert.deepEqual(results[23]!.runIds, ["run-seen"]);
      assert.equal(results[24]!.duplicate, true);
      assert.deepEqual(results[24]!.runIds, ["run-k3"]);
      assert.equal(results[24]!.intakeId, results[3]!.intakeId);
    },
  );
  await t.step("a payload over the batch budget goes through recordIntake", async () => {
    assert.equal(results[25]!.duplicate, false);
    const payload = await getIntakePayload(kv, results[25]!.intakeId) as { blob: string };
    assert.equal(payload.blob.length, BATCH_PAYLOAD_BUDGET_BYTES + 10);
  });
  await t.step("one queue message per fresh intake", async () => {
    const deadline = Date.now() + 5_000;
    while (delivered.length < 25 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ids = new Set(delivered.map((message) => message.intake_id));
    assert.equal(delivered.length, 25);
    assert.equal(ids.size, 25);
  });
  kv.close();
  await listener;
});

Deno.test("recordIntakes() and recordIntake() store payloadJson as given", async () => {
  using kv = await Deno.openKv(":memory:");
  const text = '{"workflows": [],\n "data": {"Event": {"info": "as sent"}}}';
  const [batched] = await recordIntakes(kv, [{
    ...item("batched", { not: "this" }),
    payloadJson: new TextEncoder().encode(text),
  }]);
  const alone = await recordIntake(kv, {
    ...item("alone", { not: "this" }),
    payloadJson: new TextEncoder().encode(text),
  });
  for (const result of [batched!, alone]) {
    assert.deepEqual(await getIntakePayload(kv, result.intakeId), JSON.parse(text));
    assert.equal((await getIntake(kv, result.intakeId))?.payload_bytes, text.length);
  }
});
