/**
 * End-to-end: a real Flowgate process (`main.ts`) on a temporary KV and a free port, driven over
 * HTTP as MISP and an admin would.
 */

import assert from "node:assert/strict";
import { startFlowgate } from "../fixtures/flowgate_process.ts";
import { postRedSave, RED_SAVES_WORKFLOW, sharedEvent } from "./red_saves.ts";

const ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef";
const HOOK_TOKEN = "e2e-hook-token-0123456789abcdef";
const DATA = new URL("../../../shared/data/", import.meta.url);

function admin(base: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${ADMIN_TOKEN}`);
  return fetch(`${base}${path}`, { ...init, headers });
}

async function waitForRun(base: string, runId: string, timeoutMs = 20_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await admin(base, `/api/runs/${runId}`);
    if (response.status === 200) return response;
    await response.body?.cancel();
    if (Date.now() > deadline) {
      throw new Error(`Run "${runId}" not recorded within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test({
  name:
    "Flowgate process: MISP /query verdicts on the imported blueprint, and webhook runs from the queue",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const dir = await Deno.makeTempDir();
    try {
      await using flowgate = await startFlowgate({
        kvPath: `${dir}/flowgate.kv`,
        adminToken: ADMIN_TOKEN,
        hookToken: HOOK_TOKEN,
      });
      const base = flowgate.url;

      await t.step("import the real blueprint through the API", async () => {
        const response = await admin(
          base,
          "/api/workflows?trigger=enrichment-before-query&enable=true",
          {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: await Deno.readTextFile(
              new URL("blueprint_pap_red-and-tlp_red-blocking_1661328258.json", DATA),
            ),
          },
        );
        assert.equal(response.status, 201);
        assert.equal((await response.json()).workflow.workflow.trigger, "enrichment-before-query");
      });

      const query = async (data: unknown) => {
        const response = await fetch(`${base}/query`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ module: "flowgate_enrichment_before_query", data, params: {} }),
        });
        assert.equal(response.status, 200);
        assert.match(response.headers.get("Content-Type") ?? "", /application\/json/);
        return await response.json();
      };

      await t.step("a real event tagged tlp:red is blocked", async () => {
        const body = await query(await sharedEvent(["tlp:red"]));
        assert.equal(typeof body.error, "string");
        assert.match(body.error, /stop-execution/);
      });

      await t.step("the same event without the tag is allowed", async () => {
        assert.deepEqual(await query(await sharedEvent()), { data: true });
      });

      await t.step("a webhook intake runs from the queue; run and trace are readable", async () => {
        const created = await admin(base, "/api/workflows", {
          method: "POST",
          headers: { "Content-Type": "application/yaml" },
          body: RED_SAVES_WORKFLOW,
        });
        assert.equal(created.status, 201);
        const runId = await postRedSave(base, HOOK_TOKEN);
        const run = await (await waitForRun(base, runId)).json();
        assert.equal(run.actor.kind, "webhook");
        assert.equal(run.workflow_name, "flag-red-saves");
        assert.deepEqual(run.trace.map((entry: { module: string }) => entry.module), [
          "event-after-save",
          "tag-if",
          "stop-execution",
        ]);
        assert.equal(run.event.uuid, "5c6ab833-676c-42f3-95d2-034f0a00020f");
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "Flowgate process: kill -9 while acknowledging webhooks loses none and runs none twice",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const kvPath = `${dir}/flowgate.kv`;
    try {
      const first = await startFlowgate({ kvPath, adminToken: ADMIN_TOKEN, hookToken: HOOK_TOKEN });
      const created = await admin(first.url, "/api/workflows", {
        method: "POST",
        headers: { "Content-Type": "application/yaml" },
        body: RED_SAVES_WORKFLOW,
      });
      assert.equal(created.status, 201);

      const template = await sharedEvent();
      const acknowledged = new Map<string, string>();
      let killed = false;
      const post = async (i: number) => {
        const event = structuredClone(template) as { Event: Record<string, unknown> };
        const uuid = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
        event.Event.uuid = uuid;
        try {
          const response = await fetch(`${first.url}/hooks/misp/event-after-save`, {
            method: "POST",
            headers: { Authorization: `Bearer ${HOOK_TOKEN}`, "Content-Type": "application/json" },
            body: JSON.stringify(event),
          });
          if (response.status === 202) {
            const [runId] = (await response.json()).run_ids;
            acknowledged.set(uuid, runId);
          } else await response.body?.cancel();
        } catch {
          // The connection died with the process: not acknowledged, may or may not be recorded.
        }
        if (!killed && acknowledged.size >= 60) {
          killed = true;
          await first.kill9();
        }
      };
      await Promise.all(Array.from({ length: 200 }, (_, i) => post(i)));
      if (!killed) await first.kill9();
      assert.ok(acknowledged.size >= 60, `only ${acknowledged.size} webhooks were acknowledged`);

      await using second = await startFlowgate({
        kvPath,
        adminToken: ADMIN_TOKEN,
        hookToken: HOOK_TOKEN,
      });
      for (const runId of acknowledged.values()) {
        await (await waitForRun(second.url, runId, 60_000)).body?.cancel();
      }

      const runs: { id: string; event?: { uuid?: string } }[] = [];
      let cursor: string | undefined;
      do {
        const page = await (await admin(
          second.url,
          `/api/runs?limit=500${cursor ? `&cursor=${cursor}` : ""}`,
        )).json();
        runs.push(...page.items);
        cursor = page.cursor;
      } while (cursor);
      const ids = new Set(runs.map((run) => run.id));
      assert.equal(ids.size, runs.length, "a run id appears twice");
      const perEvent = new Map<string, number>();
      for (const run of runs) {
        const uuid = run.event?.uuid ?? "";
        perEvent.set(uuid, (perEvent.get(uuid) ?? 0) + 1);
      }
      for (const [uuid, count] of perEvent) {
        assert.equal(count, 1, `event ${uuid} ran ${count} times`);
      }
      for (const [uuid, runId] of acknowledged) {
        assert.ok(ids.has(runId), `acknowledged webhook for ${uuid} lost`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
