import assert from "node:assert/strict";
import { ForegroundPriority } from "../../services/foreground_priority.ts";
import { createQueueHandler } from "../../services/queue.ts";
import { newRunId } from "../../services/run_record.ts";
import { recordIntakes } from "../../store/intake_batch.ts";
import { getRunSummary } from "../../store/runs.ts";
import type { IntakeMessage } from "../../store/types.ts";
import { tallyQueueContext } from "../fixtures/tally_queue_context.ts";
import { waitFor } from "../fixtures/wait_for.ts";

/** Resolves to true once `promise` settled, false while it has not (checked after a macrotask). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => done = true, () => done = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return done;
}

/** A priority whose backlog stays at 0 unless given. */
function priorityOf(
  options: { quietMs: number; maxWaitMs: number; backlog?: () => number },
): ForegroundPriority {
  return new ForegroundPriority({ maxBacklog: 100, backlog: () => 0, ...options });
}

Deno.test("ForegroundPriority: queued work runs at once when no request is under way", async () => {
  const priority = priorityOf({ quietMs: 0, maxWaitMs: 60_000 });
  await priority.turn();
  priority.begin();
  priority.end();
  await priority.turn();
  assert.equal(priority.waiting, 0);
});

Deno.test("ForegroundPriority: queued work waits for the requests under way, then runs", async () => {
  const priority = priorityOf({ quietMs: 0, maxWaitMs: 60_000 });
  priority.begin();
  priority.begin();
  const turns = [priority.turn(), priority.turn()];
  assert.equal(priority.waiting, 2);
  priority.end();
  assert.equal(await settled(Promise.any(turns)), false, "one request is still under way");
  priority.end();
  await Promise.all(turns);
  assert.equal(priority.waiting, 0);
});

Deno.test("ForegroundPriority: a request arriving in the quiet wait keeps queued work waiting", async () => {
  const priority = priorityOf({ quietMs: 30, maxWaitMs: 60_000 });
  priority.begin();
  const turn = priority.turn();
  priority.end();
  priority.begin();
  assert.equal(await settled(turn), false);
  assert.equal(priority.waiting, 1);
  priority.end();
  await turn;
  assert.equal(priority.waiting, 0);
});

Deno.test("ForegroundPriority: behind a request that never ends, messages that waited the bound run one at a time", async () => {
  // Due after 1 s, and run regardless 1 s later: the checks below come long before that.
  const priority = priorityOf({ quietMs: 0, maxWaitMs: 1_000 });
  priority.begin();
  const turns = [priority.turn(), priority.turn(), priority.turn()];
  const endFirst = await turns[0]!;
  assert.equal(await settled(Promise.any([turns[1]!, turns[2]!])), false, "the first one runs");
  endFirst();
  const endSecond = await turns[1]!;
  assert.equal(await settled(turns[2]!), false, "the second one runs");
  endSecond();
  (await turns[2]!)();
  assert.equal(priority.waiting, 0);
  priority.end();
});

Deno.test("ForegroundPriority: a message due for as long again runs beside a slow one", async () => {
  const priority = priorityOf({ quietMs: 0, maxWaitMs: 5 });
  priority.begin();
  const [first, second] = [priority.turn(), priority.turn()];
  const endFirst = await first;
  // The first one's run never ends here; the second runs anyway, twice the bound after it came.
  const endSecond = await second;
  assert.equal(priority.waiting, 0);
  endSecond();
  endFirst();
  priority.end();
});

Deno.test("ForegroundPriority: past the backlog bound, queued work no longer waits for requests", async () => {
  let backlog = 100;
  const priority = priorityOf({ quietMs: 0, maxWaitMs: 60_000, backlog: () => backlog });
  priority.begin();
  const atTheBound = priority.turn();
  assert.equal(priority.waiting, 1);
  backlog = 101;
  await priority.turn();
  // Behind the bound, the one that waited runs too.
  await atTheBound;
  assert.equal(priority.waiting, 0);
  priority.end();
});

Deno.test("the queue runs an intake only once the request being handled is answered", async () => {
  using kv = await Deno.openKv(":memory:");
  const trigger = "event-after-save";
  const { ctx, calls, workflow: stored } = await tallyQueueContext(kv, trigger, {
    foreground: priorityOf({ quietMs: 0, maxWaitMs: 600_000 }),
  });
  const runId = newRunId();
  const [intake] = await recordIntakes(kv, [{
    trigger,
    dedupeKey: "priority",
    payload: {
      workflows: [{ id: stored.id, version: stored.version, run_id: runId }],
      actor: { kind: "webhook" },
      data: { Event: { uuid: "event-1", info: "priority" } },
    },
    runIds: [runId],
    windowMs: 60_000,
  }]);
  const message: IntakeMessage = {
    type: "intake",
    intake_id: intake!.intakeId,
    trigger,
    run_ids: [runId],
  };
  const handler = createQueueHandler(ctx);

  ctx.foreground.begin();
  const handled = handler(message);
  await waitFor(() => ctx.foreground.waiting === 1, { what: "the queued intake to wait" });
  assert.deepEqual(calls, []);
  assert.equal(await getRunSummary(kv, runId), null);

  ctx.foreground.end();
  await handled;
  assert.deepEqual(calls, ["tally"]);
  assert.equal((await getRunSummary(kv, runId))?.outcome, "success");
});

Deno.test("a server's priority counts the backlog this process owes: past 5,000 intakes the queue runs", async () => {
  using kv = await Deno.openKv(":memory:");
  const { ctx } = await tallyQueueContext(kv, "event-after-save");
  ctx.foreground.begin();
  ctx.metrics.queueEnqueued(5_000);
  const waiting = ctx.foreground.turn();
  assert.equal(ctx.foreground.waiting, 1);
  ctx.metrics.queueEnqueued();
  await ctx.foreground.turn();
  await waiting;
  ctx.foreground.end();
});
