import assert from "node:assert/strict";
import { setLogSink } from "../../engine/log.ts";
import { offlineServices } from "../../modules/offline_services.ts";
import { createWorkflow, deleteWorkflow } from "../../store/workflows.ts";
import { createApp } from "../../server/app.ts";
import { createAppContext } from "../../services/context.ts";
import { acceptIntake } from "../../services/intake.ts";
import { Metrics } from "../../services/metrics.ts";
import { createQueueHandler, recoverUnfinishedIntakes } from "../../services/queue.ts";
import { node, workflowOf } from "../engine/fake_modules.ts";
import {
  ADMIN_TOKEN,
  LOOPBACK_ENV,
  realEvent,
  startTestApp,
  type TestApp,
} from "../server/test_app.ts";

/** Another Flowgate process on the same KV: fresh in-process metrics. */
function restart(test: TestApp) {
  const ctx = createAppContext({
    kv: test.kv,
    config: test.config,
    services: offlineServices(),
    metrics: new Metrics(),
    proxy: null,
  });
  return { app: createApp(ctx), ctx };
}

async function queueDepth(app: ReturnType<typeof createApp>): Promise<number> {
  const response = await app.request("/metrics", {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
  }, LOOPBACK_ENV);
  assert.equal(response.status, 200);
  const line = (await response.text()).match(/^flowgate_queue_depth (\d+)$/m);
  assert.ok(line, "flowgate_queue_depth is exposed");
  return Number(line[1]);
}

async function afterSaveWorkflow(test: TestApp): Promise<string> {
  const stored = await createWorkflow(
    test.kv,
    workflowOf("event-after-save", [
      node("trigger", "event-after-save", "trigger", [["stop"]]),
      node("stop", "stop-execution", "action"),
    ]),
    { actor: "test", sourceFormat: "yaml" },
  );
  return stored.id;
}

function messageOf(intake: { intakeId: string; runIds: string[] }) {
  return {
    type: "intake",
    intake_id: intake.intakeId,
    trigger: "event-after-save",
    run_ids: intake.runIds,
  };
}

Deno.test("flowgate_queue_depth reads 0 after a restart when nothing is pending", async () => {
  await using test = await startTestApp();
  const workflowId = await afterSaveWorkflow(test);
  const intake = await acceptIntake(test.ctx, "event-after-save", await realEvent(), {
    actor: { kind: "webhook" },
  });
  // Deleted before its queued run: the run is skipped, so its record never exists.
  await deleteWorkflow(test.kv, workflowId, { actor: "test" });
  const previous = setLogSink(() => {});
  try {
    await createQueueHandler(test.ctx)(messageOf(intake));
    assert.equal(await queueDepth(test.app), 0);

    const next = restart(test);
    // The start-up sweep enqueues intakes whose runs are missing again, as `main.ts` does.
    await recoverUnfinishedIntakes(next.ctx, Date.now() + 1);
    assert.equal(await queueDepth(next.app), 0);
  } finally {
    setLogSink(previous);
  }
});

Deno.test("flowgate_queue_depth counts the work pending in KV, whichever process took it in", async () => {
  await using test = await startTestApp();
  await afterSaveWorkflow(test);
  const intake = await acceptIntake(test.ctx, "event-after-save", await realEvent(), {
    actor: { kind: "webhook" },
  });
  const next = restart(test);
  assert.equal(await queueDepth(next.app), 1);
  await createQueueHandler(next.ctx)(messageOf(intake));
  assert.equal(await queueDepth(next.app), 0);
  assert.equal(await queueDepth(test.app), 0);
});
