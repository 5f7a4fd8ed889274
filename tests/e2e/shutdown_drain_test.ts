/**
 * End-to-end: SIGTERM to a real Flowgate process (the start task's flags, a temporary KV file)
 * while its queue runs are in flight. The runs finish before the KV closes, the process exits 0,
 * nothing is recorded as a failure or dead-lettered, and every acknowledged run is stored.
 */

import assert from "node:assert/strict";
import { SHUTDOWN_DRAIN_TIMEOUT_MS } from "../../services/queue_drain.ts";
import { type FlowgateProcess, startFlowgate } from "../fixtures/flowgate_process.ts";
import { waitFor } from "../fixtures/wait_for.ts";
import { startWebhookSink } from "../fakes/webhook_sink.ts";
import { RED_SAVES_WORKFLOW, sharedEvent } from "./red_saves.ts";

const ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef";
const HOOK_TOKEN = "e2e-hook-token-0123456789abcdef";
/** Webhooks posted while the receiver holds every call. */
const WEBHOOKS = 20;
/** What the stderr of a clean shutdown must not say. */
const SHUTDOWN_ERRORS = [
  "recorded as a failure",
  "storing it as a failure",
  "Database is closed",
  "BadResource",
  "Intake payload unreadable",
  "Exception in queue handler",
];

function admin(base: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${ADMIN_TOKEN}`);
  return fetch(`${base}${path}`, { ...init, headers });
}

/** A workflow on event-after-save whose one node calls `url` (the test's slow receiver). */
function notifyWorkflow(url: string): string {
  return `
name: notify-saves
description: Tells a receiver of every saved event
trigger: event-after-save
enabled: true
start: notify
nodes:
  notify:
    module: webhook
    params: { url: "${url}" }
`;
}

async function createWorkflow(base: string, yaml: string): Promise<void> {
  const response = await admin(base, "/api/workflows", {
    method: "POST",
    headers: { "Content-Type": "application/yaml" },
    body: yaml,
  });
  assert.equal(response.status, 201, await response.text());
}

/** Posts the shared event as MISP's event-after-save webhook (`i` makes it a distinct event). */
async function postSave(base: string, i: number): Promise<string> {
  const event = await sharedEvent() as { Event: Record<string, unknown> };
  event.Event.uuid = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
  const response = await fetch(`${base}/hooks/misp/event-after-save`, {
    method: "POST",
    headers: { Authorization: `Bearer ${HOOK_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify(event),
  });
  assert.equal(response.status, 202);
  const { run_ids: runIds } = await response.json();
  assert.equal(runIds.length, 1);
  return runIds[0];
}

/** True once nothing answers at `base` any more (the server stopped listening). */
async function stoppedListening(base: string): Promise<boolean> {
  try {
    const response = await fetch(`${base}/healthz`);
    await response.body?.cancel();
    return false;
  } catch {
    return true;
  }
}

/** The exit status of a SIGTERM'd process; throws (after SIGKILL) when it outlives `limitMs`. */
async function exitWithin(flowgate: FlowgateProcess, limitMs: number): Promise<Deno.CommandStatus> {
  const stopping = flowgate.stop();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), limitMs);
  });
  const outcome = await Promise.race([stopping, late]);
  clearTimeout(timer);
  if (outcome === "late") {
    await flowgate.kill9();
    throw new Error(`Flowgate did not exit within ${limitMs} ms of SIGTERM: ${flowgate.logs()}`);
  }
  return outcome;
}

function assertCleanShutdown(logs: string): void {
  for (const text of SHUTDOWN_ERRORS) {
    assert.ok(!logs.includes(text), `stderr says "${text}":\n${logs.slice(-8_192)}`);
  }
}

Deno.test({
  name:
    "Flowgate process: SIGTERM with queue runs in flight waits for them, exits 0, and every acknowledged run is stored",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "flowgate-shutdown-" });
    const kvPath = `${dir}/flowgate.kv`;
    const release = Promise.withResolvers<void>();
    await using sink = startWebhookSink();
    sink.reply(async () => {
      await release.promise;
      return { status: 200 };
    });
    const options = {
      kvPath,
      adminToken: ADMIN_TOKEN,
      hookToken: HOOK_TOKEN,
      env: { FLOWGATE_OUTBOUND_ALLOW: "127.0.0.1/32" },
    };
    try {
      const first = await startFlowgate(options);
      let runIds: string[];
      try {
        await createWorkflow(first.url, notifyWorkflow(`${sink.url}/saved`));
        runIds = await Promise.all(
          Array.from({ length: WEBHOOKS }, (_, i) => postSave(first.url, i)),
        );
        await waitFor(() => sink.requests.length === WEBHOOKS, {
          what: `the receiver holding the calls of all ${WEBHOOKS} runs`,
        });
      } catch (error) {
        await first.kill9();
        throw error;
      }

      const exit = exitWithin(first, SHUTDOWN_DRAIN_TIMEOUT_MS + 20_000);
      // The runs end only once the shutdown has begun (the server no longer listens).
      await waitFor(() => stoppedListening(first.url), { what: "Flowgate to stop listening" });
      release.resolve();
      const status = await exit;
      assertCleanShutdown(first.logs());
      assert.equal(status.code, 0, `exit code ${status.code}:\n${first.logs().slice(-8_192)}`);

      await using second = await startFlowgate(options);
      const outcomes = new Map<string, string>();
      await waitFor(async () => {
        for (const runId of runIds) {
          if (outcomes.has(runId)) continue;
          const response = await admin(second.url, `/api/runs/${runId}`);
          if (response.status !== 200) {
            await response.body?.cancel();
            return false;
          }
          outcomes.set(runId, (await response.json()).outcome);
        }
        return true;
      }, { what: `all ${WEBHOOKS} acknowledged runs stored`, timeoutMs: 90_000 });
      for (const [runId, outcome] of outcomes) {
        assert.notEqual(outcome, "failure", `run ${runId} stored as a failure`);
      }
      const deadLetters = await (await admin(second.url, "/api/dead-letters")).json();
      assert.deepEqual(deadLetters.items, []);
      assert.equal((await second.stop()).code, 0);
      assertCleanShutdown(second.logs());
    } finally {
      release.resolve();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "Flowgate process: SIGTERM with no queue work in flight exits 0 before the drain bound",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "flowgate-shutdown-idle-" });
    try {
      const flowgate = await startFlowgate({
        kvPath: `${dir}/flowgate.kv`,
        adminToken: ADMIN_TOKEN,
        hookToken: HOOK_TOKEN,
      });
      try {
        await createWorkflow(flowgate.url, RED_SAVES_WORKFLOW);
        const runId = await postSave(flowgate.url, 0);
        await waitFor(async () => {
          const response = await admin(flowgate.url, `/api/runs/${runId}`);
          await response.body?.cancel();
          return response.status === 200;
        }, { what: `run ${runId} stored` });
      } catch (error) {
        await flowgate.kill9();
        throw error;
      }
      // Exiting before the bound shows the drain did not wait it out.
      const status = await exitWithin(flowgate, SHUTDOWN_DRAIN_TIMEOUT_MS);
      assert.equal(status.code, 0, flowgate.logs());
      assertCleanShutdown(flowgate.logs());
      assert.ok(!flowgate.logs().includes("still running"), flowgate.logs());
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
