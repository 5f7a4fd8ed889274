import assert from "node:assert/strict";
import { parseWorkflowYaml } from "../../engine/yaml_codec.ts";
import { createOutboundFetch } from "../../modules/action/lib/outbound.ts";
import { MODULE_CATALOG } from "../../modules/registry.ts";
import { listRuns } from "../../store/runs.ts";
import { createWorkflow } from "../../store/workflows.ts";
import { startWebhookSink } from "../fakes/webhook_sink.ts";
import { mispQuery, realEvent, startTestApp, type TestApp } from "../server/test_app.ts";
import { tellAndBlockYaml } from "../fixtures/gate_workflows.ts";
import { README_WORKFLOW_YAML, saveWorkflowYaml, tlpRedEvent } from "../adversarial/harness.ts";
import { parseQueryEnvelope, QUERY_BYTES_IN_FLIGHT } from "../../server/routes/misp_modules.ts";
import { decideVerdictOffThread } from "../../services/verdict_off_thread.ts";
import { VerdictWorkers } from "../../services/verdict_workers.ts";

/** The `/metrics` count of verdicts handed to a Worker that ended with `outcome`. */
function handedOver(test: TestApp, outcome: string): number {
  const text = test.ctx.metrics.render({ deadLetters: 0, workflowsEnabled: 0 });
  const prefix = `flowgate_verdict_worker_requests_total{outcome="${outcome}"} `;
  const line = text.split("\n").find((row) => row.startsWith(prefix));
  return line === undefined ? 0 : Number(line.slice(prefix.length));
}

Deno.test("a verdict whose walk needs the server's services is decided there, its action sent once", async (t) => {
  await using sink = startWebhookSink();
  await using test = await startTestApp({
    env: { FLOWGATE_OUTBOUND_ALLOW: "127.0.0.1/32" },
    services: { outboundFetch: createOutboundFetch({ allow: ["127.0.0.1/32"] }) },
    verdictWorkers: 1,
  });
  await createWorkflow(
    test.kv,
    parseWorkflowYaml(tellAndBlockYaml(sink.url), { catalog: MODULE_CATALOG }),
    { actor: "test", sourceFormat: "yaml" },
  );
  const red = await realEvent({ tlpRed: true });

  await t.step(
    "the Worker hands it back; the server's thread tells the webhook and blocks",
    async () => {
      const answer = await (await mispQuery(test, "flowgate_event_publish", red)).json();
      assert.match(answer.error, /Blocked after telling the webhook/);
      assert.equal(sink.requests.length, 1, "the webhook is told once, by the server's thread");
      assert.equal(JSON.parse(sink.requests[0]!.body), "5c6ab833-676c-42f3-95d2-034f0a00020f");
      assert.equal(handedOver(test, "main-thread"), 1);
      assert.equal(handedOver(test, "decided"), 0);
    },
  );

  await t.step(
    "the next verdict on the same workflows goes straight to the server's thread",
    async () => {
      const answer = await (await mispQuery(test, "flowgate_event_publish", red)).json();
      assert.match(answer.error, /Blocked after telling the webhook/);
      assert.equal(sink.requests.length, 2);
      assert.equal(handedOver(test, "main-thread"), 1, "not handed to the Worker again");
    },
  );

  await t.step("both runs are stored", async () => {
    const runs = (await listRuns(test.kv)).items;
    assert.deepEqual(runs.map((run) => run.outcome), ["blocked", "blocked"]);
  });
});

Deno.test("with no verdict Worker ready, the body is given back untouched for the server's thread", async () => {
  await using test = await startTestApp();
  const workers = VerdictWorkers.start({ size: 1, secrets: [] })!;
  workers.close();
  const body = new TextEncoder().encode(JSON.stringify({ module: "m", data: { Event: {} } }));
  const located = parseQueryEnvelope(body)!;
  const outcome = await decideVerdictOffThread(test.ctx, workers, "event-publish", {
    body,
    ...located.dataSpan,
    nodeContext: {},
  }, { actor: { kind: "misp" }, started: performance.now() });
  assert.equal(outcome.kind, "on-main-thread");
  assert.equal((outcome as { body: Uint8Array }).body, body, "the same bytes, never transferred");
  assert.equal(body.byteLength > 0, true);
  assert.equal(handedOver(test, "failed"), 0);
});

Deno.test("FLOWGATE_VERDICT_HANDOVER=busy: a lone verdict stays on the server's thread, one beside another goes to a Worker", async (t) => {
  await using test = await startTestApp({
    verdictWorkers: 1,
    env: { FLOWGATE_VERDICT_HANDOVER: "busy" },
  });
  await saveWorkflowYaml(test, README_WORKFLOW_YAML);
  const red = await tlpRedEvent();
  const redQuery = JSON.stringify({ module: "flowgate_event_publish", data: red });

  await t.step("alone: decided on the server's thread", async () => {
    const answer = await (await mispQuery(test, "flowgate_event_publish", red)).json();
    assert.match(answer.error, /blocked/);
    assert.equal(handedOver(test, "decided"), 0);
  });

  await t.step("while another /query is under way: handed to the Worker", async () => {
    // The first call's body arrives in two parts; its second part waits for the step's end.
    let sendRest!: () => void;
    const restSent = new Promise<void>((resolve) => sendRest = resolve);
    const half = redQuery.length >> 1;
    const slowBody = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode(redQuery.slice(0, half)));
        await restSent;
        controller.enqueue(new TextEncoder().encode(redQuery.slice(half)));
        controller.close();
      },
    });
    const slow = test.request("/query", { method: "POST", body: slowBody });
    const answer = await (await mispQuery(test, "flowgate_event_publish", red)).json();
    assert.match(answer.error, /blocked/);
    assert.equal(handedOver(test, "decided"), 1);
    sendRest();
    assert.match((await (await slow).json()).error, /blocked/);
  });

  await t.step(
    "a body over half the parse budget stays on the server's thread all the same",
    async () => {
      let sendRest!: () => void;
      const restSent = new Promise<void>((resolve) => sendRest = resolve);
      const slowBody = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode(redQuery.slice(0, 10)));
          await restSent;
          controller.enqueue(new TextEncoder().encode(redQuery.slice(10)));
          controller.close();
        },
      });
      const slow = test.request("/query", { method: "POST", body: slowBody });
      const large = structuredClone(red) as { Event: Record<string, unknown> };
      large.Event.comment = "x".repeat(QUERY_BYTES_IN_FLIGHT / 2);
      const answer = await (await mispQuery(test, "flowgate_event_publish", large)).json();
      assert.match(answer.error, /blocked/);
      assert.equal(handedOver(test, "decided"), 1, "still the one of the step before");
      sendRest();
      assert.match((await (await slow).json()).error, /blocked/);
    },
  );
});
