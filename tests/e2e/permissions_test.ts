/**
 * Permissions that match what runs: a real Flowgate process started with exactly the flags of
 * `deno task start` (tests/fixtures/flowgate_process.ts reads them from deno.json), with ZeroMQ
 * configured. `push-zmq` must really publish to a ZeroMQ subscriber under those flags, and
 * without FFI `/healthz` must say zmq does not work, and why. The verdict Workers must load and
 * decide under the same flags.
 */

import assert from "node:assert/strict";
import { Subscriber } from "zeromq";
import {
  type FlowgateProcess,
  type FlowgateProcessOptions,
  freePort,
  startFlowgate,
} from "../fixtures/flowgate_process.ts";
import { waitFor } from "../fixtures/wait_for.ts";

const ADMIN_TOKEN = "e2e-permissions-admin-token-0123456789";

const ZMQ_WORKFLOW = `
name: publish-on-zmq
description: Every publication goes out on MISP's workflow ZeroMQ topic
trigger: event-publish
enabled: true
start: push
nodes:
  push:
    module: push-zmq
    params:
      data_extraction_path: ""
`;

/** The real event `misp-event-pymisp-sighting_2.json`, as MISP sends it. */
async function realEvent(): Promise<Record<string, unknown>> {
  return JSON.parse(
    await Deno.readTextFile(
      new URL("../../../shared/data/misp-event-pymisp-sighting_2.json", import.meta.url),
    ),
  );
}

/** Runs `test` on a Flowgate started with the start task's flags on a KV in a new temp folder. */
async function withFlowgate(
  options: Omit<FlowgateProcessOptions, "kvPath" | "adminToken">,
  test: (flowgate: FlowgateProcess) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flowgate-permissions-" });
  try {
    await using flowgate = await startFlowgate({
      kvPath: `${dir}/flowgate.kv`,
      adminToken: ADMIN_TOKEN,
      ...options,
    });
    await test(flowgate);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Creates a workflow from YAML through the admin API. */
async function postWorkflow(flowgate: FlowgateProcess, yaml: string): Promise<void> {
  const created = await fetch(`${flowgate.url}/api/workflows`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/yaml" },
    body: yaml,
  });
  assert.equal(created.status, 201, await created.clone().text());
  await created.body?.cancel();
}

/** MISP's `/query` call for `event-publish` on `event`. */
function postQuery(flowgate: FlowgateProcess, event: unknown): Promise<Response> {
  return fetch(`${flowgate.url}/query`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ module: "flowgate_event_publish", data: event, params: {} }),
  });
}

/** Waits until both verdict Workers say they are ready (`/healthz`). */
async function workersReady(flowgate: FlowgateProcess): Promise<void> {
  await waitFor(async () => {
    const workers = (await healthz(flowgate.url)).verdict_workers!;
    return workers.ready === workers.size && workers.size === 2;
  }, { what: "both verdict Workers ready", timeoutMs: 30_000 });
}

/** `/metrics` as the admin reads it. */
async function metrics(flowgate: FlowgateProcess): Promise<string> {
  const headers = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  return await (await fetch(`${flowgate.url}/metrics`, { headers })).text();
}

async function healthz(url: string): Promise<Record<string, Record<string, unknown>>> {
  const response = await fetch(`${url}/healthz`);
  assert.equal(response.status, 200);
  return await response.json();
}

Deno.test({
  name: "start flags: push-zmq publishes to a real ZeroMQ subscriber and /healthz says zmq works",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const endpoint = `tcp://127.0.0.1:${freePort()}`;
    const subscriber = new Subscriber({ linger: 0 });
    try {
      const env = { FLOWGATE_ZMQ_ENDPOINT: endpoint, FLOWGATE_VERDICT_HANDOVER: "always" };
      await withFlowgate({ env }, async (flowgate) => {
        const health = await healthz(flowgate.url);
        assert.equal(health.integrations!.zmq, true, JSON.stringify(health));
        assert.equal(health.integration_errors, undefined);
        await workersReady(flowgate);
        await postWorkflow(flowgate, ZMQ_WORKFLOW);

        // Flowgate binds on its first publication; a subscriber misses what is sent before its
        // subscription reaches the publisher (ZeroMQ's slow joiner), so publish until one arrives.
        subscriber.connect(endpoint);
        subscriber.subscribe("misp_json_workflow");
        const event = await realEvent();
        const received: string[] = [];
        const receiving = (async () => {
          for await (const [frame] of subscriber) received.push(frame?.toString() ?? "");
        })().catch(() => {});
        await waitFor(async () => {
          const response = await postQuery(flowgate, event);
          assert.deepEqual(await response.json(), { data: true });
          return received.length > 0;
        }, { what: "a push-zmq message at the ZeroMQ subscriber", intervalMs: 100 });
        const [topic, ...rest] = received[0]!.split(" ");
        assert.equal(topic, "misp_json_workflow");
        assert.equal(
          JSON.parse(rest.join(" ")).Event.uuid,
          "5c6ab833-676c-42f3-95d2-034f0a00020f",
        );
        subscriber.close();
        await receiving;
        // event-publish blocks: the verdict Worker handed the walk back at push-zmq, unsent.
        assert.match(
          await metrics(flowgate),
          /verdict_worker_requests_total\{outcome="main-thread"\} 1\n/,
        );
      });
    } finally {
      if (!subscriber.closed) subscriber.close();
    }
  },
});

Deno.test({
  name: "start flags with --deny-ffi: /healthz reports zmq false and why, and the log says so",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const env = { FLOWGATE_ZMQ_ENDPOINT: `tcp://127.0.0.1:${freePort()}` };
    await withFlowgate({ env, deny: ["ffi"] }, async (flowgate) => {
      const health = await healthz(flowgate.url);
      assert.equal(health.ok, true);
      assert.equal(health.integrations!.zmq, false);
      assert.match(
        String(health.integration_errors?.zmq),
        /FFI is not granted for the ZeroMQ addon .*deno task start/,
      );
      await waitFor(() => flowgate.logs().includes("Integration unavailable"), {
        what: "the start-up warning that zmq cannot work",
      });
      assert.doesNotMatch(flowgate.logs(), /NotCapable/);
    });
  },
});

const GATE_WORKFLOW = `
name: block-tlp-red
description: Blocks tlp:red publications
trigger: event-publish
enabled: true
start: red
nodes:
  red:
    module: tag-if
    params: { scope: attribute, condition: in_or, tags: [tlp:red] }
    then: stop
  stop:
    module: stop-execution
    params: { message: "tlp:red stays here" }
`;

Deno.test({
  name: "start flags: the verdict Workers load and decide, and the run is stored",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withFlowgate({ env: { FLOWGATE_VERDICT_HANDOVER: "always" } }, async (flowgate) => {
      await workersReady(flowgate);
      await postWorkflow(flowgate, GATE_WORKFLOW);

      const event = await realEvent() as { Event: { Attribute: { Tag?: unknown[] }[] } };
      event.Event.Attribute[0]!.Tag = [{ name: "tlp:red" }];
      const response = await postQuery(flowgate, event);
      assert.match((await response.json()).error, /tlp:red stays here/);

      assert.match(
        await metrics(flowgate),
        /verdict_worker_requests_total\{outcome="decided"\} 1\n/,
      );
      const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
      const runs = await (await fetch(`${flowgate.url}/api/runs`, { headers: admin })).json();
      assert.equal(runs.items.length, 1);
      assert.equal(runs.items[0].outcome, "blocked");
      assert.doesNotMatch(flowgate.logs(), /NotCapable|Verdict Worker/);
    });
  },
});
