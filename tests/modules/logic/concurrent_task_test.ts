import assert from "node:assert/strict";
import { concurrentTask, NODE_TO_EXEC_KEY } from "../../../modules/logic/concurrent_task.ts";
import { runModule } from "./harness.ts";

Deno.test("concurrent-task removes the target key and defers a snapshot", async () => {
  const run = await runModule(concurrentTask, {}, { Event: { id: "1" }, [NODE_TO_EXEC_KEY]: "7" });
  assert.equal(run.result, true);
  assert.deepEqual(run.roaming.getData(), { Event: { id: "1" } });
  assert.deepEqual(run.deferred, [{
    start_node_id: "7",
    data: { Event: { id: "1" } },
    from_node_id: "n",
  }]);
});

Deno.test("concurrent-task fails clearly when run without a target", async () => {
  await assert.rejects(
    async () => await runModule(concurrentTask, {}, { Event: {} }),
    /did not set "__node_id_to_exec"/,
  );
});
