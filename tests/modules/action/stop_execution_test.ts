import assert from "node:assert/strict";
import { DEFAULT_STOP_MESSAGE, stopExecution } from "../../../modules/action/stop_execution.ts";
import { runModule } from "../logic/harness.ts";

Deno.test("stop-execution fails with its message", async (t) => {
  await t.step("the message rendered as a template", async () => {
    const run = await runModule(stopExecution, { message: "No {{ Event.info }}" }, {
      Event: { info: "leak" },
    });
    assert.equal(run.result, false);
    assert.deepEqual(run.errors, ["No leak"]);
  });
  await t.step("an empty or missing message gives 'Execution stopped'", async () => {
    for (const params of [{}, { message: "" }, { message: null }]) {
      const run = await runModule(stopExecution, params, {});
      assert.deepEqual(run.errors, [DEFAULT_STOP_MESSAGE]);
    }
  });
  await t.step("a template rendering to '' falls back too", async () => {
    const run = await runModule(stopExecution, { message: "{{ Event.nothing }}" }, { Event: {} });
    assert.deepEqual(run.errors, [DEFAULT_STOP_MESSAGE]);
  });
});
