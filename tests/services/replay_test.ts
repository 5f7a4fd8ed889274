import assert from "node:assert/strict";
import { parseWorkflowYaml } from "../../engine/yaml_codec.ts";
import { createOutboundFetch } from "../../modules/action/lib/outbound.ts";
import { MODULE_CATALOG } from "../../modules/registry.ts";
import { replayWithDiff } from "../../services/replay.ts";
import { ConflictError } from "../../store/errors.ts";
import { claimReplaySlot, countReplays, MAX_REPLAYS_PER_RUN } from "../../store/replays.ts";
import { getRun, listRuns } from "../../store/runs.ts";
import { createWorkflow, replaceWorkflow } from "../../store/workflows.ts";
import { startWebhookSink } from "../fakes/webhook_sink.ts";
import { mispQuery, realEvent, startTestApp } from "../server/test_app.ts";
import { tellAndBlockYaml } from "../fixtures/gate_workflows.ts";

Deno.test("replayWithDiff() shows the decision a workflow change flipped, without outbound calls when dry", async (t) => {
  await using sink = startWebhookSink();
  await using test = await startTestApp({
    env: { FLOWGATE_OUTBOUND_ALLOW: "127.0.0.1/32" },
    services: { outboundFetch: createOutboundFetch({ allow: ["127.0.0.1/32"] }) },
  });
  const stored = await createWorkflow(
    test.kv,
    parseWorkflowYaml(tellAndBlockYaml(sink.url), { catalog: MODULE_CATALOG }),
    { actor: "test", sourceFormat: "yaml" },
  );
  const verdict = await mispQuery(
    test,
    "flowgate_event_publish",
    await realEvent({ tlpRed: true }),
  );
  assert.match((await verdict.json()).error, /Blocked/);
  assert.equal(sink.requests.length, 1);
  const original = (await listRuns(test.kv)).items[0]!;
  assert.equal(original.outcome, "blocked");
  await replaceWorkflow(
    test.kv,
    stored.id,
    parseWorkflowYaml(tellAndBlockYaml(sink.url, "tlp:amber"), { catalog: MODULE_CATALOG }),
    { actor: "test", sourceFormat: "yaml" },
  );

  await t.step("against the current version the diff shows the flipped decision", async () => {
    const { run, diff } = await replayWithDiff(test.ctx, original.id, {
      mode: "current",
      dry: true,
      actor: { kind: "api", id: "api:admin" },
    });
    assert.equal(run.replay_of, original.id);
    assert.equal(run.mode, "current");
    assert.equal(run.workflow_version, 2);
    assert.deepEqual(run.actor, { kind: "api", id: "api:admin" });
    assert.deepEqual(diff.outcome, { before: "blocked", after: "success", changed: true });
    assert.deepEqual(diff.nodes.map((node) => [node.node_id, node.change]), [
      ["is-red", "decision"],
      ["tell", "no-longer-runs"],
      ["stop", "no-longer-runs"],
    ]);
    assert.equal((await getRun(test.kv, run.id))?.replay_of, original.id);
  });

  await t.step(
    "against the original version a dry replay records the call but sends nothing",
    async () => {
      const { run, diff } = await replayWithDiff(test.ctx, original.id, {
        mode: "original",
        dry: true,
        actor: { kind: "chat", id: "slack:U1" },
      });
      assert.equal(diff.changed, false);
      assert.equal(run.workflow_version, 1);
      const tell = run.trace.find((entry) => entry.node_id === "tell");
      assert.equal(tell?.actions?.[0]?.dry, true);
      assert.equal(sink.requests.length, 1);
    },
  );

  await t.step("a live replay of the original calls the webhook again", async () => {
    await replayWithDiff(test.ctx, original.id, {
      mode: "original",
      dry: false,
      actor: { kind: "api", id: "api:admin" },
    });
    assert.equal(sink.requests.length, 2);
    assert.equal(await countReplays(test.kv, original.id), 3);
  });
});

Deno.test("claimReplaySlot() stops at the per-run limit", async () => {
  using kv = await Deno.openKv(":memory:");
  for (let i = 1; i <= MAX_REPLAYS_PER_RUN; i++) assert.equal(await claimReplaySlot(kv, "r1"), i);
  await assert.rejects(
    claimReplaySlot(kv, "r1"),
    (error: unknown) =>
      error instanceof ConflictError &&
      error.message === `Cannot replay run "r1": it was replayed 20 times already (limit 20)`,
  );
  assert.equal(await claimReplaySlot(kv, "r2", { limit: 1 }), 1);
  await assert.rejects(claimReplaySlot(kv, "r2", { limit: 1 }), ConflictError);
});
