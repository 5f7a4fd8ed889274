import assert from "node:assert/strict";
import type { ModuleLookup } from "../../engine/walker.ts";
import type { WorkflowModule } from "../../engine/module.ts";
import { MODULE_REGISTRY } from "../../modules/registry.ts";
import { getRun, listRuns } from "../../store/runs.ts";
import { createWorkflow } from "../../store/workflows.ts";
import { acceptIntake } from "../../services/intake.ts";
import { createQueueHandler } from "../../services/queue.ts";
import { decideVerdict, verdictBody } from "../../services/verdict.ts";
import { descriptor, fakeAction, node, workflowOf } from "../engine/fake_modules.ts";
import { mispQuery, realEvent, startTestApp } from "../server/test_app.ts";

function withModules(...extra: WorkflowModule[]): ModuleLookup {
  const byId = new Map(extra.map((module) => [module.descriptor.id, module]));
  return { getModule: (id) => byId.get(id) ?? MODULE_REGISTRY.getModule(id) };
}

/** An action that only returns once the run's deadline aborts it. */
const waitForAbort: WorkflowModule = {
  descriptor: descriptor("wait-for-abort", "action"),
  exec: (context) =>
    new Promise<boolean>((resolve) => {
      context.signal.addEventListener("abort", () => resolve(true), { once: true });
    }),
};

Deno.test("decideVerdict() runs workflows in order and the first block stops the rest", async () => {
  const calls: string[] = [];
  await using test = await startTestApp({ modules: withModules(fakeAction("count", calls)) });
  const blocker = workflowOf("event-publish", [
    node("trigger", "event-publish", "trigger", [["stop"]]),
    node("stop", "stop-execution", "action", [], { message: "Not today" }),
  ], "blocker");
  const counter = workflowOf("event-publish", [
    node("trigger", "event-publish", "trigger", [["tally"]]),
    node("tally", "count", "action"),
  ], "counter");
  await createWorkflow(test.kv, { ...counter, order: 1 }, { actor: "test", sourceFormat: "yaml" });
  await createWorkflow(test.kv, { ...blocker, order: 2 }, { actor: "test", sourceFormat: "yaml" });
  await createWorkflow(test.kv, { ...counter, name: "late", order: 3 }, {
    actor: "test",
    sourceFormat: "yaml",
  });

  const verdict = await decideVerdict(test.ctx, "event-publish", await realEvent(), {
    actor: { kind: "misp" },
  });
  assert.equal(verdict.allow, false);
  assert.equal(verdict.runIds.length, 2);
  assert.deepEqual(calls, ["tally"]);
  assert.match(JSON.stringify(verdictBody(verdict)), /Not today/);
  assert.equal((await listRuns(test.kv)).items.length, 2);
});

Deno.test("a workflow missing the verdict deadline follows on_timeout and is recorded", async (t) => {
  for (const policy of ["block", "allow"] as const) {
    await t.step(`on_timeout: ${policy}`, async () => {
      await using test = await startTestApp({
        env: { FLOWGATE_VERDICT_TIMEOUT_MS: "50" },
        modules: withModules(waitForAbort),
      });
      await createWorkflow(test.kv, {
        ...workflowOf("event-publish", [
          node("trigger", "event-publish", "trigger", [["slow"]]),
          node("slow", "wait-for-abort", "action"),
        ], "slow"),
        on_timeout: policy,
      }, { actor: "test", sourceFormat: "yaml" });
      const response = await mispQuery(test, "flowgate_event_publish", await realEvent());
      assert.equal(response.status, 200);
      const body = await response.json();
      if (policy === "block") assert.match(body.error, /missed the verdict deadline of 50 ms/);
      else assert.deepEqual(body, { data: true });
      const [summary] = (await listRuns(test.kv)).items;
      const run = await getRun(test.kv, summary!.id);
      assert.equal(run?.timed_out, true);
      assert.equal(run?.outcome, policy === "block" ? "blocked" : "success");
    });
  }
});

Deno.test("decideVerdict() allows when no workflow listens and records nothing", async () => {
  await using test = await startTestApp();
  const verdict = await decideVerdict(test.ctx, "event-publish", await realEvent(), {
    actor: { kind: "misp" },
  });
  assert.deepEqual(verdict, { allow: true, errors: [], runIds: [] });
  assert.deepEqual(verdictBody(verdict), { data: true });
  assert.equal((await listRuns(test.kv)).items.length, 0);
});

Deno.test("a verdict requested while a queue run of the same workflow acts on the same event is guarded", async () => {
  const nested: { allow: boolean; runIds: string[] }[] = [];
  // The module needs the app, which needs the module: the app goes in this holder once started.
  const app: { test?: Awaited<ReturnType<typeof startTestApp>> } = {};
  // Stands in for MISP: the action's side effect makes MISP ask for a verdict on the same event.
  const callBack: WorkflowModule = {
    descriptor: descriptor("call-back", "action"),
    async exec(context) {
      nested.push(
        await decideVerdict(app.test!.ctx, "event-publish", context.roaming.getData(), {
          actor: { kind: "misp" },
        }),
      );
      return true;
    },
  };
  const test = app.test = await startTestApp({ modules: withModules(callBack) });
  try {
    await createWorkflow(
      test.kv,
      workflowOf("event-publish", [
        node("trigger", "event-publish", "trigger", [["back"]]),
        node("back", "call-back", "action"),
      ], "re-entrant"),
      { actor: "test", sourceFormat: "yaml" },
    );
    const intake = await acceptIntake(test.ctx, "event-publish", await realEvent(), {
      actor: { kind: "webhook" },
    });
    await createQueueHandler(test.ctx)({
      type: "intake",
      intake_id: intake.intakeId,
      trigger: "event-publish",
      run_ids: intake.runIds,
    });
    assert.equal(nested.length, 1);
    assert.equal(nested[0]!.allow, true);
    const guarded = await getRun(test.kv, nested[0]!.runIds[0]!);
    assert.equal(guarded?.trace[0]?.status, "guarded");
    assert.equal((await getRun(test.kv, intake.runIds[0]!))?.outcome, "success");
  } finally {
    test.kv.close();
  }
});
