/**
 * Deno Deploy readiness: `main.ts` as Deploy runs it, `DENO_DEPLOYMENT_ID` set and `FLOWGATE_KV`
 * unset (so `Deno.openKv()` without a path), with the start task's permissions except write, run
 * and FFI, which are denied. The verdict, intake, approval and chat paths must all work without
 * writing a file, starting a process or loading a native library. `DENO_DIR` is a fresh temporary
 * folder, so the platform-style KV (kept there by local Deno) starts empty and is thrown away.
 */

import assert from "node:assert/strict";
import { startFakeMisp } from "../fakes/misp_server.ts";
import { startTelegramApi } from "../fakes/telegram_api.ts";
import {
  amberEvent,
  approvalWorkflowYaml,
  processPublishGate,
} from "../fixtures/approval_setup.ts";
import { startFlowgate } from "../fixtures/flowgate_process.ts";
import { waitFor } from "../fixtures/wait_for.ts";
import { postRedSave, RED_SAVES_WORKFLOW, sharedEvent } from "./red_saves.ts";

const ADMIN_TOKEN = "e2e-deploy-admin-token-0123456789";
const HOOK_TOKEN = "e2e-deploy-hook-token-0123456789";
const TELEGRAM_TOKEN = "7171:E2E-deploy-token";
const TELEGRAM_SECRET = "e2e_deploy_secret";
const TELEGRAM_GROUP = "-100999";
const TELEGRAM_RESPONDER = 702;
const DATA = new URL("../../../shared/data/", import.meta.url);

Deno.test({
  name:
    "Deploy readiness: --deny-write --deny-run --deny-ffi and Deno.openKv() without a path run verdict, intake, approval and chat",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const denoDir = await Deno.makeTempDir({ prefix: "flowgate-deploy-deno-dir-" });
    await using telegram = startTelegramApi({ token: TELEGRAM_TOKEN, chats: [TELEGRAM_GROUP] });
    let flowgateUrl = "";
    await using misp = await startFakeMisp({
      events: [await amberEvent()],
      onPublish: processPublishGate(() => flowgateUrl),
    });
    try {
      await using flowgate = await startFlowgate({
        kvPath: null,
        adminToken: ADMIN_TOKEN,
        hookToken: HOOK_TOKEN,
        deny: ["write", "run", "ffi"],
        env: {
          DENO_DEPLOYMENT_ID: "flowgate-deploy-readiness-test",
          DENO_DIR: denoDir,
          MISP_URL: misp.url,
          MISP_API_KEY: misp.apiKey,
          TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
          TELEGRAM_SECRET_TOKEN: TELEGRAM_SECRET,
          TELEGRAM_API_ROOT: telegram.url,
        },
      });
      flowgateUrl = flowgate.url;
      const api = (path: string, init: RequestInit = {}) => {
        const headers = new Headers(init.headers);
        headers.set("Authorization", `Bearer ${ADMIN_TOKEN}`);
        return fetch(`${flowgate.url}/api${path}`, { ...init, headers });
      };
      const create = async (contentType: string, body: string, query = "") => {
        const response = await api(`/workflows${query}`, {
          method: "POST",
          headers: { "Content-Type": contentType },
          body,
        });
        assert.equal(response.status, 201, await response.clone().text());
        await response.body?.cancel();
      };

      await t.step(
        "the KV is the platform one (Deno.openKv() in DENO_DIR), ZeroMQ is off",
        async () => {
          const health = await (await fetch(`${flowgate.url}/healthz`)).json();
          assert.equal(health.ok, true);
          assert.equal(health.integrations.zmq, false);
          assert.equal(health.integrations.workflows_dir, false);
          await waitFor(async () => {
            for await (const entry of Deno.readDir(`${denoDir}/location_data`)) {
              if (entry.isDirectory) return true;
            }
            return false;
          }, { what: "the KV of Deno.openKv() under DENO_DIR/location_data" });
        },
      );

      await t.step(
        "verdict: MISP's /query blocks a tlp:red event and allows the rest",
        async () => {
          await create(
            "application/json",
            await Deno.readTextFile(
              new URL("blueprint_pap_red-and-tlp_red-blocking_1661328258.json", DATA),
            ),
            "?trigger=enrichment-before-query&enable=true",
          );
          const query = async (data: unknown) => {
            const response = await fetch(`${flowgate.url}/query`, {
              method: "POST",
              headers: { "Content-Type": "application/json" },
              body: JSON.stringify({
                module: "flowgate_enrichment_before_query",
                data,
                params: {},
              }),
            });
            assert.equal(response.status, 200);
            return await response.json();
          };
          assert.match((await query(await sharedEvent(["tlp:red"]))).error, /stop-execution/);
          assert.deepEqual(await query(await sharedEvent()), { data: true });
        },
      );

      await t.step("intake: a webhook is queued, run from KV's queue and stored", async () => {
        await create("application/yaml", RED_SAVES_WORKFLOW);
        const runId = await postRedSave(flowgate.url, HOOK_TOKEN);
        let run: Record<string, unknown> = {};
        await waitFor(async () => {
          const response = await api(`/runs/${runId}`);
          if (response.status !== 200) {
            await response.body?.cancel();
            return false;
          }
          run = await response.json();
          return true;
        }, { what: `run "${runId}" stored`, timeoutMs: 20_000, intervalMs: 50 });
        assert.equal(run.workflow_name, "flag-red-saves");
        assert.equal((run.actor as { kind: string }).kind, "webhook");
      });

      await t.step("chat: the Telegram webhook route answers a command", async () => {
        for (
          const [path, body] of [
            ["/chat/chats", { platform: "telegram", chat_id: TELEGRAM_GROUP, announce: true }],
            [
              "/chat/roles",
              { platform: "telegram", user_id: String(TELEGRAM_RESPONDER), role: "responder" },
            ],
          ] as const
        ) {
          const response = await api(path, {
            method: "PUT",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(body),
          });
          assert.equal(response.status, 200, await response.clone().text());
          await response.body?.cancel();
        }
        const update = await fetch(`${flowgate.url}/telegram`, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
          },
          body: JSON.stringify({
            update_id: 1,
            message: {
              message_id: 1,
              date: Math.floor(Date.now() / 1_000),
              chat: { id: Number(TELEGRAM_GROUP), type: "supergroup", title: "SOC" },
              from: { id: TELEGRAM_RESPONDER, is_bot: false, first_name: "Responder" },
              text: "/list",
              entities: [{ type: "bot_command", offset: 0, length: 5 }],
            },
          }),
        });
        assert.equal(update.status, 200);
        await update.body?.cancel();
        await waitFor(
          () => telegram.messages.some((message) => /flag-red-saves/.test(String(message.text))),
          { what: "the answer to /list in the Telegram group" },
        );
      });

      await t.step("approval: a parked publication is approved through the API", async () => {
        await create("application/yaml", await approvalWorkflowYaml());
        const publish = await fetch(`${misp.url}/events/publish/1`, {
          method: "POST",
          headers: { Authorization: misp.apiKey },
        });
        const text = await publish.text();
        assert.equal(publish.status, 403, text);
        const id = /awaiting approval ([0-9A-Z]{26})/.exec(text)?.[1];
        assert.ok(id, `no approval id in ${text}`);
        await waitFor(
          () => telegram.messages.some((message) => /Awaiting approval/.test(String(message.text))),
          { what: "the approval card in the Telegram group" },
        );
        const decided = await api(`/approvals/${id}/approve`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ approver: `telegram:${TELEGRAM_RESPONDER}`, reason: "OK" }),
        });
        const decision = await decided.json();
        assert.equal(decided.status, 200, JSON.stringify(decision));
        assert.equal(decision.approval.state, "approved");
        assert.equal(misp.event("1")?.published, true);
      });

      // A denied write, run or FFI call throws NotCapable ("Requires write access …"): none may
      // have happened, even where the error was caught and logged.
      assert.doesNotMatch(flowgate.logs(), /NotCapable|Requires (write|run|ffi) access/);
    } finally {
      await Deno.remove(denoDir, { recursive: true });
    }
  },
});
