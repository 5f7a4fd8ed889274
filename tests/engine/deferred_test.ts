import assert from "node:assert/strict";
import { InProcessDeferredRunner, scheduleDeferred } from "../../engine/deferred.ts";
import { runWorkflow } from "../../engine/run_workflow.ts";
import { concurrentTask } from "../../modules/logic/concurrent_task.ts";
import { eventWith, fakeAction, lookupOf, node, testServices, workflowOf } from "./fake_modules.ts";
import { ENGINE_LOOKUPS } from "../../modules/registry.ts";

Deno.test("InProcessDeferredRunner runs sub-walks after the main walk, with their options", async () => {
  const log: string[] = [];
  const dryRuns: boolean[] = [];
  const act = fakeAction("act", log, { run: (context) => dryRuns.push(context.dryRun) });
  const modules = lookupOf(concurrentTask, act);
  const workflow = workflowOf("event-publish", [
    node("t", "event-publish", "trigger", [["fork"]]),
    node("fork", "concurrent-task", "logic", [["a", "b"]]),
    node("a", "act", "action", [[]]),
    node("b", "act", "action", [[]]),
  ]);
  const result = await runWorkflow(workflow, eventWith(), {
    ...ENGINE_LOOKUPS,
    services: testServices(),
    modules,
  });
  assert.deepEqual(log, [], "nothing runs inline");

  const runner = new InProcessDeferredRunner({
    ...ENGINE_LOOKUPS,
    services: testServices(),
    modules,
  });
  await scheduleDeferred(runner, result, { workflow, dryRun: true, workflowId: "wf-3" });
  assert.equal(runner.pending, 2);
  const results = await runner.drain();
  assert.deepEqual(log, ["a", "b"]);
  assert.deepEqual(dryRuns, [true, true]);
  assert.deepEqual(results.map((run) => run.outcome), ["success", "success"]);
  assert.deepEqual(await runner.drain(), [], "drained");
});
