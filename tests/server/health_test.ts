import assert from "node:assert/strict";
import {
  createZmqPublisher,
  type ZeroMqAvailability,
} from "../../modules/action/lib/zmq_publisher.ts";
import { checkIntegrations } from "../../services/integration_status.ts";
import { ADMIN_TOKEN, importRedBlueprint, mispQuery, realEvent, startTestApp } from "./test_app.ts";

Deno.test("GET /healthz says KV answers and which integrations are on", async () => {
  await using test = await startTestApp();
  const response = await test.request("/healthz");
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.ok, true);
  assert.deepEqual(body.kv, { ok: true });
  assert.equal(body.integrations.misp, false);
  assert.equal(body.integrations.webhooks, true);
  assert.equal(body.integrations.slack, false);
  assert.deepEqual(body.verdict_workers, { size: 0, ready: 0, under_way: 0 });
});

Deno.test("GET /healthz says how many verdict Workers are ready", async () => {
  await using test = await startTestApp({ verdictWorkers: 2 });
  const body = await (await test.request("/healthz")).json();
  assert.equal(body.verdict_workers.size, 2);
  assert.ok(body.verdict_workers.ready >= 1, JSON.stringify(body.verdict_workers));
  assert.equal(body.verdict_workers.under_way, 0);
});

Deno.test("GET /healthz checks ZeroMQ for real: FFI granted and the addon loaded", async () => {
  // This test process has every permission (`deno task test`); tests/e2e/permissions_test.ts
  // starts Flowgate without FFI and sees zmq reported false with the reason.
  await using test = await startTestApp({
    services: { zmq: createZmqPublisher("tcp://127.0.0.1:*") },
  });
  const body = await (await test.request("/healthz")).json();
  assert.equal(body.integrations.zmq, true);
  assert.equal(body.integration_errors, undefined);
});

Deno.test("checkIntegrations() leaves unconfigured integrations off without checking them", async () => {
  await using test = await startTestApp();
  const health = await checkIntegrations(test.ctx, { timeoutMs: 1 });
  assert.equal(health.integrations.zmq, false);
  assert.deepEqual(health.errors, {});
});

Deno.test("checkIntegrations() answers within its timeout when the ZeroMQ check hangs", async () => {
  await using test = await startTestApp({
    services: { zmq: createZmqPublisher("tcp://127.0.0.1:*") },
  });
  const hanging = Promise.withResolvers<ZeroMqAvailability>();
  const health = await checkIntegrations(test.ctx, {
    timeoutMs: 5,
    zeroMq: () => hanging.promise,
  });
  assert.equal(health.integrations.zmq, false);
  assert.equal(health.errors.zmq, "still loading the ZeroMQ addon after 5 ms");
  hanging.resolve({ ok: true });
});

Deno.test("checkIntegrations() reports why ZeroMQ cannot work", async () => {
  await using test = await startTestApp({
    services: { zmq: createZmqPublisher("tcp://127.0.0.1:*") },
  });
  const health = await checkIntegrations(test.ctx, {
    zeroMq: () => Promise.resolve({ ok: false, reason: "FFI is not granted" }),
  });
  assert.equal(health.integrations.zmq, false);
  assert.deepEqual(health.errors, { zmq: "FFI is not granted" });
  assert.equal(health.integrations.webhooks, true);
});

Deno.test("GET /metrics (admin) exposes runs, verdict latency, queue and dead letters", async (t) => {
  await using test = await startTestApp();
  await importRedBlueprint(test);
  await mispQuery(test, "flowgate_enrichment_before_query", await realEvent({ tlpRed: true }));
  await mispQuery(test, "flowgate_enrichment_before_query", await realEvent());
  await t.step("refused without the admin token", async () => {
    assert.equal((await test.request("/metrics")).status, 401);
  });
  await t.step("Prometheus text", async () => {
    const response = await test.request("/metrics", {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("Content-Type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.match(
      text,
      /flowgate_runs_total\{trigger="enrichment-before-query",outcome="blocked"\} 1/,
    );
    assert.match(
      text,
      /flowgate_runs_total\{trigger="enrichment-before-query",outcome="success"\} 1/,
    );
    assert.match(text, /flowgate_verdict_latency_seconds_count 2/);
    assert.match(text, /flowgate_verdict_latency_seconds_bucket\{le="\+Inf"\} 2/);
    assert.match(text, /flowgate_queue_depth 0/);
    assert.match(text, /flowgate_dead_letters 0/);
    assert.match(text, /flowgate_workflows_enabled 1/);
  });
});

Deno.test("catalogue routes list triggers and modules", async (t) => {
  await using test = await startTestApp();
  await t.step("triggers", async () => {
    const body = await (await test.admin("/api/triggers")).json();
    assert.ok(body.items.some((trigger: { id: string }) => trigger.id === "event-publish"));
    const one = await (await test.admin("/api/triggers/event-publish")).json();
    assert.equal(one.blocking, true);
    assert.equal((await test.admin("/api/triggers/nope")).status, 404);
  });
  await t.step("modules", async () => {
    const logic = await (await test.admin("/api/modules?kind=logic")).json();
    assert.ok(logic.items.some((module: { id: string }) => module.id === "tag-if"));
    assert.ok(
      logic.items.every((module: { module_type: string }) => module.module_type === "logic"),
    );
    const stop = await (await test.admin("/api/modules/stop-execution")).json();
    assert.equal(stop.module_type, "action");
    assert.equal((await test.admin("/api/modules?kind=trigger")).status, 400);
    assert.equal((await test.admin("/api/modules/nope")).status, 404);
  });
});

Deno.test("unknown routes answer JSON 404", async () => {
  await using test = await startTestApp();
  const response = await test.request("/nowhere");
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), { error: "No route for GET /nowhere" });
});
