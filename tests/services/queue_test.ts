import assert from "node:assert/strict";
import type { JsonObject } from "../../engine/model.ts";
import type { ModuleLookup } from "../../engine/walker.ts";
import { TransientError } from "../../engine/module_errors.ts";
import { MODULE_REGISTRY } from "../../modules/registry.ts";
import type { WorkflowModule } from "../../engine/module.ts";
import { listDeadLetters } from "../../store/dead_letters.ts";
import { getRun, listRuns } from "../../store/runs.ts";
import { createWorkflow } from "../../store/workflows.ts";
import { acceptIntake } from "../../services/intake.ts";
import { createQueueHandler } from "../../services/queue.ts";
import { fakeAction, node, workflowOf } from "../engine/fake_modules.ts";
import { realEvent, startTestApp } from "../server/test_app.ts";
import { waitFor } from "../fixtures/wait_for.ts";

/** The registry plus test modules. */
function withModules(...extra: WorkflowModule[]): ModuleLookup {
  const byId = new Map(extra.map((module) => [module.descriptor.id, module]));
  return { getModule: (id) => byId.get(id) ?? MODULE_REGISTRY.getModule(id) };
}

Deno.test("queue intake handler runs each acknowledged run once, even when redelivered", async () => {
  const calls: string[] = [];
  await using test = await startTestApp({
    modules: withModules(fakeAction("count", calls)),
  });
  await createWorkflow(
    test.kv,
    workflowOf("event-after-save", [
      node("trigger", "event-after-save", "trigger", [["tally"]]),
      node("tally", "count", "action"),
    ]),
    { actor: "test", sourceFormat: "yaml" },
  );
  const intake = await acceptIntake(test.ctx, "event-after-save", await realEvent(), {
    actor: { kind: "webhook" },
  });
  assert.equal(intake.runIds.length, 1);
  const handler = createQueueHandler(test.ctx);
  const message = {
    type: "intake",
    intake_id: intake.intakeId,
    trigger: "event-after-save",
    run_ids: intake.runIds,
  };
  await Promise.all([handler(message), handler(message)]);
  await handler(message);
  assert.deepEqual(calls, ["tally"]);
  const run = await getRun(test.kv, intake.runIds[0]!);
  assert.equal(run?.outcome, "success");
  assert.equal((await listRuns(test.kv)).items.length, 1);
});

Deno.test("queue handler runs every intake of a batch message once, even when redelivered", async () => {
  const calls: string[] = [];
  await using test = await startTestApp({ modules: withModules(fakeAction("count", calls)) });
  await createWorkflow(
    test.kv,
    workflowOf("event-after-save", [
      node("trigger", "event-after-save", "trigger", [["tally"]]),
      node("tally", "count", "action"),
    ]),
    { actor: "test", sourceFormat: "yaml" },
  );
  const event = await realEvent();
  // Two saves of one event (run one after the other) and another event (run alongside).
  const other = { ...event, Event: { ...(event.Event as JsonObject), uuid: crypto.randomUUID() } };
  const intakes = await Promise.all(
    [{ ...event, n: 1 }, { ...event, n: 2 }, other].map((data) =>
      acceptIntake(test.ctx, "event-after-save", data, { actor: { kind: "webhook" } })
    ),
  );
  const handler = createQueueHandler(test.ctx);
  const [first, ...also] = intakes.map((intake) => ({
    type: "intake",
    intake_id: intake.intakeId,
    trigger: "event-after-save",
    run_ids: intake.runIds,
  }));
  const message = { ...first, also };
  await Promise.all([handler(message), handler(message)]);
  await handler(message);
  assert.deepEqual(calls, ["tally", "tally", "tally"]);
  for (const intake of intakes) {
    assert.equal((await getRun(test.kv, intake.runIds[0]!))?.outcome, "success");
  }
  assert.equal((await listRuns(test.kv)).items.length, 3);
});

Deno.test("concurrent-task sub-walks run from the KV queue, once each", async () => {
  const calls: string[] = [];
  await using test = await startTestApp({ modules: withModules(fakeAction("count", calls)) });
  const stored = await createWorkflow(
    test.kv,
    workflowOf("event-after-save", [
      node("trigger", "event-after-save", "trigger", [["fork"]]),
      node("fork", "concurrent-task", "logic", [["left", "right"]]),
      node("left", "count", "action"),
      node("right", "count", "action"),
    ]),
    { actor: "test", sourceFormat: "yaml" },
  );
  const delivered: unknown[] = [];
  const handler = createQueueHandler(test.ctx);
  const listener = test.kv.listenQueue(async (message) => {
    delivered.push(message);
    await handler(message);
  });
  await acceptIntake(test.ctx, "event-after-save", await realEvent(), {
    actor: { kind: "webhook" },
  });
  await waitFor(async () =>
    (await listRuns(test.kv, { workflowId: stored.id })).items.length === 3
  );
  assert.deepEqual(calls.sort(), ["left", "right"]);
  const runs = (await listRuns(test.kv, { workflowId: stored.id })).items;
  const subRuns = runs.filter((run) => run.actor.kind === "queue");
  assert.equal(subRuns.length, 2);
  assert.ok(subRuns.every((run) => run.actor.id?.startsWith("deferred:")));

  // A redelivered job message finds its done mark and runs nothing.
  const job = delivered.find((message) => (message as { type: string }).type === "job");
  await handler(job);
  assert.equal(calls.length, 2);
  test.kv.close();
  await listener;
});

Deno.test("a transiently failing action is retried with backoff, then dead-lettered", async () => {
  const calls: string[] = [];
  const flaky = fakeAction("flaky", calls, { throws: new TransientError("Sink answered 503") });
  await using test = await startTestApp({ modules: withModules(flaky) });
  await createWorkflow(
    test.kv,
    workflowOf("event-after-save", [
      node("trigger", "event-after-save", "trigger", [["send"]]),
      node("send", "flaky", "action"),
    ]),
    { actor: "test", sourceFormat: "yaml" },
  );
  const handler = createQueueHandler(test.ctx, { retryBaseMs: 0, maxAttempts: 3 });
  const listener = test.kv.listenQueue(handler);
  await acceptIntake(test.ctx, "event-after-save", await realEvent(), {
    actor: { kind: "webhook" },
  });
  await waitFor(async () => (await listDeadLetters(test.kv)).items.length === 1, {
    timeoutMs: 10_000,
  });
  assert.deepEqual(calls, ["send", "send", "send"]);
  const [letter] = (await listDeadLetters(test.kv)).items;
  assert.equal(letter!.kind, "action-retry");
  assert.equal(letter!.attempts, 3);
  assert.match(letter!.error, /still failing after 3 attempts: .*503/);
  const api = await (await test.admin("/api/dead-letters")).json();
  assert.equal(api.items.length, 1);
  // Retries are attempts of the run, recorded in its history, never runs of their own.
  const runs = (await listRuns(test.kv)).items;
  assert.equal(runs.length, 1);
  const run = await getRun(test.kv, runs[0]!.id);
  assert.equal(run?.outcome, "failure");
  assert.deepEqual(
    run?.attempts?.map((attempt) => [attempt.attempt, attempt.ok, "next_try_at" in attempt]),
    [[1, false, true], [2, false, true], [3, false, false]],
  );
  test.kv.close();
  await listener;
});
