import assert from "node:assert/strict";
import { getIntake, getIntakePayload, recordIntake } from "../../store/intake.ts";
import {
  BATCH_PAYLOAD_BUDGET_BYTES,
  type IntakeBatchMessage,
  recordIntakes,
} from "../../store/intake_batch.ts";
import { MAX_COMMIT_CHECKS } from "../../store/keys.ts";
import { waitFor } from "../fixtures/wait_for.ts";
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
  let messages = 0;
  const listener = kv.listenQueue((message) => {
    messages++;
    const { also, ...first } = message as IntakeBatchMessage;
    delivered.push(first, ...(also ?? []));
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
  await t.step("one queue message per commit, naming each fresh intake once", async () => {
    await waitFor(() => delivered.length >= 25, { what: "25 intakes delivered" });
    const ids = new Set(delivered.map((message) => message.intake_id));
    assert.equal(delivered.length, 25);
    assert.equal(ids.size, 25);
    // "seen" and "big" alone, the 23 others in commits of at most MAX_COMMIT_CHECKS - 1 (one check
    // of each commit is the workflows' revision counter).
    assert.equal(messages, 2 + Math.ceil(23 / (MAX_COMMIT_CHECKS - 1)));
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

Deno.test("recordIntakes() enqueues one message per intake when one for all would be too big", async () => {
  using kv = await Deno.openKv(":memory:");
  const messages: IntakeBatchMessage[] = [];
  const listener = kv.listenQueue((message) => {
    messages.push(message as IntakeBatchMessage);
  });
  // 10 intakes of 300 workflows each: about 9 KiB of run ids apiece, 90 KiB for all of them.
  const items = Array.from({ length: 10 }, (_, i) => ({
    ...item(`many-${i}`),
    runIds: Array.from(
      { length: 300 },
      (_, n) => `01RUN${String(i * 1_000 + n).padStart(21, "0")}`,
    ),
  }));
  const results = await recordIntakes(kv, items);
  assert.ok(results.every((result) => !result.duplicate));
  await waitFor(() => messages.length >= 10, { what: "10 intake messages" });
  assert.ok(messages.every((message) => message.also === undefined));
  assert.equal(new Set(messages.map((message) => message.intake_id)).size, 10);
  kv.close();
  await listener;
});

Deno.test("recordIntakes() commits fresh intakes without reading their dedupe markers first", async () => {
  using kv = await Deno.openKv(":memory:");
  let reads = 0;
  const getMany = kv.getMany.bind(kv);
  kv.getMany = ((...args: Parameters<Deno.Kv["getMany"]>) => {
    reads++;
    return getMany(...args);
  }) as Deno.Kv["getMany"];
  const results = await recordIntakes(kv, Array.from({ length: 25 }, (_, i) => item(`f${i}`)));
  assert.ok(results.every((result) => !result.duplicate));
  assert.equal(reads, 0, "a batch of unseen keys reads no marker");
  const again = await recordIntakes(kv, [item("f1"), item("new")]);
  assert.deepEqual(again.map((result) => result.duplicate), [true, false]);
  assert.ok(reads > 0, "a batch holding a seen key reads the markers and commits again");
});

Deno.test("recordIntakes() records again a key whose marker outlived its window", async () => {
  using kv = await Deno.openKv(":memory:");
  const [first] = await recordIntakes(kv, [item("late")]);
  const later = new Date(Date.now() + WINDOW_MS + 1_000);
  const [after] = await recordIntakes(kv, [{
    ...item("late"),
    runIds: ["run-late-2"],
    now: later,
  }]);
  assert.equal(after!.duplicate, false);
  assert.notEqual(after!.intakeId, first!.intakeId);
  assert.deepEqual(after!.runIds, ["run-late-2"]);
});

Deno.test("recordIntakes() in two concurrent calls records a key once", async () => {
  using kv = await Deno.openKv(":memory:");
  const results = (await Promise.all([
    recordIntakes(kv, [item("race"), item("a")]),
    recordIntakes(kv, [item("race"), item("b")]),
  ])).map(([race]) => race!);
  assert.equal(results.filter((result) => !result.duplicate).length, 1);
  assert.equal(results[0]!.intakeId, results[1]!.intakeId);
});
