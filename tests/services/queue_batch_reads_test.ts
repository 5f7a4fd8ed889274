import assert from "node:assert/strict";
import type { JsonObject } from "../../engine/model.ts";
import { Metrics } from "../../services/metrics.ts";
import { createQueueHandler } from "../../services/queue.ts";
import { newRunId } from "../../services/run_record.ts";
import { listDeadLetters } from "../../store/dead_letters.ts";
import { getIntakePayloads } from "../../store/intake.ts";
import { recordIntakes } from "../../store/intake_batch.ts";
import { KEY_INTAKE_PAYLOADS, KEY_INTAKES } from "../../store/keys.ts";
import { intakeWorkId, isWorkDone } from "../../store/queue_jobs.ts";
import { getRunSummary } from "../../store/runs.ts";
import type { IntakeMessage } from "../../store/types.ts";
import { tallyQueueContext } from "../fixtures/tally_queue_context.ts";

const TRIGGER = "event-after-save";
const INTAKES = 30;
/** Intake whose record is gone (expired): no run, done, no dead letter. */
const MISSING = 3;
/** Intake whose payload bytes do not parse: no run, done, dead-lettered. */
const UNREADABLE = 7;
/** Intake handled alone before the batch: its run is stored, the batch must not run it again. */
const ALREADY_RUN = 12;
/** Intake whose payload takes several chunks. */
const BIG = 25;
/** Intakes on the same data as intake 20 (run one after the other). */
const SAME_DATA = [21, 22];

/** A KV whose method calls (get, getMany, list, atomic, set ...) are counted. */
function countingKv(kv: Deno.Kv): { kv: Deno.Kv; kvCalls: Map<string, number>; total(): number } {
  const calls = new Map<string, number>();
  const counted = new Proxy(kv, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
        return value.apply(target, args);
      };
    },
  });
  return {
    kv: counted,
    kvCalls: calls,
    total: () => [...calls.values()].reduce((a, b) => a + b, 0),
  };
}

/**
 * A queue context over a counted in-memory KV, a workflow whose action logs, and `INTAKES`
 * recorded intakes with the odd ones described above, `ALREADY_RUN` handled already.
 */
async function setUp() {
  const counter = countingKv(await Deno.openKv(":memory:"));
  const { kv } = counter;
  const { ctx, calls, workflow: stored } = await tallyQueueContext(kv, TRIGGER, {
    metrics: new Metrics(),
  });
  const dataOf = (i: number): JsonObject => ({
    Event: {
      uuid: `event-${SAME_DATA.includes(i) ? 20 : i}`,
      info: "batch test",
      ...(i === BIG ? { comment: "x".repeat(100_000) } : {}),
    },
  });
  const recorded = await recordIntakes(
    kv,
    Array.from({ length: INTAKES }, (_, i) => {
      const runId = newRunId();
      return {
        trigger: TRIGGER,
        dedupeKey: `intake-${i}`,
        payload: {
          workflows: [{ id: stored.id, version: stored.version, run_id: runId }],
          actor: { kind: "webhook" },
          data: dataOf(i),
        },
        runIds: [runId],
        windowMs: 60_000,
      };
    }),
  );
  const messages: IntakeMessage[] = recorded.map((intake) => ({
    type: "intake",
    intake_id: intake.intakeId,
    trigger: TRIGGER,
    run_ids: intake.runIds,
  }));
  await kv.delete([KEY_INTAKES, messages[MISSING]!.intake_id]);
  await kv.set(
    [KEY_INTAKE_PAYLOADS, messages[UNREADABLE]!.intake_id, 0],
    new TextEncoder().encode("{not json"),
  );
  const handler = createQueueHandler(ctx);
  await handler(messages[ALREADY_RUN]);
  assert.deepEqual(calls, ["tally"]);
  return { ...counter, ctx, handler, messages, calls, [Symbol.dispose]: () => kv.close() };
}

/** Per intake: its run's outcome (null when none), its done mark, its dead letter. */
async function outcomes(kv: Deno.Kv, messages: IntakeMessage[]) {
  const deadLetters = (await listDeadLetters(kv)).items.map((letter) =>
    (letter.payload as IntakeMessage).intake_id
  );
  return await Promise.all(messages.map(async (message) => ({
    run: (await getRunSummary(kv, message.run_ids[0]!))?.outcome ?? null,
    done: await isWorkDone(kv, intakeWorkId(message.intake_id)),
    deadLetter: deadLetters.includes(message.intake_id),
  })));
}

Deno.test("a batch message of 30 intakes costs the store a few reads and commits, not some per intake", async () => {
  using test = await setUp();
  const [first, ...also] = test.messages;
  const before = new Map(test.kvCalls);
  await test.handler({ ...first!, also });
  const used: Record<string, number> = {};
  for (const [method, n] of test.kvCalls) {
    if (n !== (before.get(method) ?? 0)) used[method] = n - (before.get(method) ?? 0);
  }
  const reads = (used.get ?? 0) + (used.getMany ?? 0) + (used.list ?? 0);
  const writes = (used.atomic ?? 0) + (used.set ?? 0);
  const report = JSON.stringify(used);
  // Payloads: 60 keys in 6 getMany, the big one's second chunk in 1 list; stored runs: 30 keys in
  // 3 getMany; the enabled workflows of the trigger: 1 get.
  assert.ok(reads <= 11, `${reads} KV reads for 30 intakes: ${report}`);
  assert.equal(used.get, 1, `the enabled workflows are read once: ${report}`);
  // The dead letter: 1 set; the runs: group commits, one per link of the same-data chain 20, 21,
  // 22 (one spare); the done marks of the intakes without a run: 1 commit.
  assert.ok(writes <= 6, `${writes} KV writes for 30 intakes: ${report}`);
  assert.equal(test.calls.length, INTAKES - 2, "every run once, the one stored before included");
});

Deno.test("a batch message stores what its intakes' single messages store, and skips stored runs on redelivery", async () => {
  using batched = await setUp();
  using single = await setUp();
  const [first, ...also] = batched.messages;
  await batched.handler({ ...first!, also });
  for (const message of single.messages) await single.handler(message);

  const expected = single.messages.map((_, i) => ({
    run: i === MISSING || i === UNREADABLE ? null : "success",
    done: true,
    deadLetter: i === UNREADABLE,
  }));
  assert.deepEqual(await outcomes(single.kv, single.messages), expected);
  assert.deepEqual(await outcomes(batched.kv, batched.messages), expected);
  // Each run once: the one handled before the batch was not run again.
  assert.equal(batched.calls.length, INTAKES - 2);
  assert.equal(single.calls.length, INTAKES - 2);

  // Redelivered: nothing runs again, nothing changes but a second dead letter for the bad bytes;
  // the 30 done marks go in one commit.
  const commitsBefore = batched.kvCalls.get("atomic") ?? 0;
  await batched.handler({ ...first!, also });
  assert.equal(batched.calls.length, INTAKES - 2);
  assert.equal(batched.kvCalls.get("atomic"), commitsBefore + 1);
  assert.deepEqual(
    (await outcomes(batched.kv, batched.messages)).map(({ run, done }) => ({ run, done })),
    expected.map(({ run, done }) => ({ run, done })),
  );
});

Deno.test("getIntakePayloads() reads many payloads in order, each settled on its own", async () => {
  using test = await setUp();
  const ids = test.messages.map((message) => message.intake_id);
  const calledBefore = Object.fromEntries(test.kvCalls);
  const reads = await getIntakePayloads(test.kv, ids);
  assert.deepEqual(
    Object.fromEntries(test.kvCalls),
    { ...calledBefore, getMany: calledBefore.getMany! + 6, list: calledBefore.list! + 1 },
    "60 keys in getMany slices of 10, and the big payload's chunks in one list",
  );
  reads.forEach((read, i) => {
    if (i === MISSING) assert.deepEqual(read, { status: "fulfilled", value: null });
    else if (i === UNREADABLE) {
      assert.equal(read.status, "rejected");
      assert.ok((read as PromiseRejectedResult).reason instanceof SyntaxError);
    } else {
      assert.equal(read.status, "fulfilled");
      const payload = (read as PromiseFulfilledResult<{ data: JsonObject }>).value;
      const event = payload.data.Event as JsonObject;
      assert.equal(event.info, "batch test");
      assert.equal(event.comment, i === BIG ? "x".repeat(100_000) : undefined);
    }
  });
});
