/**
 * The publish gate end to end: a real Flowgate process (`main.ts` on a temporary KV file), the
 * fake MISP REST API whose publish calls Flowgate's `/query` as MISP's workflow does, and the
 * admin API. Kills the process in the middle to show nothing is lost.
 */

import assert from "node:assert/strict";
import { type ChatCardRecord, getChatCard } from "../../store/chat_cards.ts";
import { putChatRole, putChatVenue } from "../../store/chat_roles.ts";
import { type FakeMisp, startFakeMisp } from "../fakes/misp_server.ts";
import { startTelegramApi, type TelegramApi } from "../fakes/telegram_api.ts";
import {
  amberEvent,
  approvalWorkflowYaml,
  processPublishGate,
  PUBLISHER,
} from "../fixtures/approval_setup.ts";
import { type FlowgateProcess, startFlowgate } from "../fixtures/flowgate_process.ts";
import { waitFor } from "../fixtures/wait_for.ts";

const ADMIN_TOKEN = "e2e-approval-admin-token-0123456789";
const TELEGRAM_TOKEN = "6161:E2E-approval-token";
const TELEGRAM_GROUP = "-100888";

interface Gate extends AsyncDisposable {
  misp: FakeMisp;
  telegram: TelegramApi;
  flowgate: FlowgateProcess;
  /** The chat card of a run as Flowgate stored it (read from its KV file), or null. */
  chatCard(runId: string): Promise<ChatCardRecord | null>;
  /** Kills Flowgate with SIGKILL and starts it again on the same KV. */
  restart(): Promise<void>;
  api(path: string, init?: RequestInit): Promise<Response>;
  /** A user publishes event 1 in MISP; resolves with MISP's status and answer. */
  publish(): Promise<{ status: number; text: string }>;
  publishCalls(): number;
}

/** Starts the fake MISP and Flowgate with the approval workflow (`params` replaced). */
async function startGate(params: Record<string, string> = {}): Promise<Gate> {
  const dir = await Deno.makeTempDir({ prefix: "flowgate-approval-" });
  const kvPath = `${dir}/flowgate.kv`;
  {
    // Chat grants, written before Flowgate opens the store.
    using kv = await Deno.openKv(kvPath);
    for (const [userId, role] of [["UVIEW", "viewer"], ["URESP", "responder"]] as const) {
      await putChatRole(kv, {
        platform: "slack",
        user_id: userId,
        role,
        granted_by: "test",
        granted_at: new Date().toISOString(),
      });
    }
    await putChatVenue(kv, {
      platform: "telegram",
      chat_id: TELEGRAM_GROUP,
      commands: true,
      announce: true,
      max_tlp: "amber",
      updated_by: "test",
      updated_at: new Date().toISOString(),
    });
  }
  const telegram = startTelegramApi({ token: TELEGRAM_TOKEN, chats: [TELEGRAM_GROUP] });
  let flowgateUrl = "";
  const misp = await startFakeMisp({
    events: [await amberEvent()],
    onPublish: processPublishGate(() => flowgateUrl),
  });
  const start = () =>
    startFlowgate({
      kvPath,
      adminToken: ADMIN_TOKEN,
      env: {
        MISP_URL: misp.url,
        MISP_API_KEY: misp.apiKey,
        TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
        TELEGRAM_SECRET_TOKEN: "e2e_approval_secret",
        TELEGRAM_API_ROOT: telegram.url,
      },
    });
  let flowgate = await start();
  flowgateUrl = flowgate.url;
  const gate: Gate = {
    misp,
    telegram,
    get flowgate() {
      return flowgate;
    },
    async chatCard(runId) {
      // A read beside the running process: SQLite serialises access (Deno KV retries while the
      // file is busy), and Flowgate's one-process lock is `<kv>.lock`, which this does not take.
      using kv = await Deno.openKv(kvPath);
      return await getChatCard(kv, runId);
    },
    async restart() {
      await flowgate.kill9();
      flowgate = await start();
      flowgateUrl = flowgate.url;
    },
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      headers.set("Authorization", `Bearer ${ADMIN_TOKEN}`);
      return fetch(`${flowgate.url}/api${path}`, { ...init, headers });
    },
    async publish() {
      const response = await fetch(`${misp.url}/events/publish/1`, {
        method: "POST",
        headers: { Authorization: misp.apiKey },
      });
      return { status: response.status, text: await response.text() };
    },
    publishCalls: () =>
      misp.requests.filter((request) => request.path.startsWith("/events/publish/")).length,
    async [Symbol.asyncDispose]() {
      await flowgate.kill9();
      await misp.close();
      await telegram.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
  const created = await gate.api("/workflows", {
    method: "POST",
    headers: { "Content-Type": "application/yaml" },
    body: await approvalWorkflowYaml(params),
  });
  assert.equal(created.status, 201, await created.clone().text());
  await created.body?.cancel();
  return gate;
}

function approvalIdOf(answer: { status: number; text: string }): string {
  assert.equal(answer.status, 403, answer.text);
  const match = /awaiting approval ([0-9A-Z]{26})/.exec(answer.text);
  assert.ok(match, `no approval id in ${answer.text}`);
  return match[1]!;
}

async function decide(
  gate: Gate,
  id: string,
  decision: "approve" | "deny",
  body: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await gate.api(`/approvals/${id}/${decision}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  return { status: response.status, json: await response.json() };
}

async function approvalOf(gate: Gate, id: string): Promise<Record<string, unknown>> {
  const response = await gate.api(`/approvals/${id}`);
  assert.equal(response.status, 200);
  return await response.json();
}

/**
 * Waits until Flowgate has stored the message id of the approval's Telegram card. The card is
 * posted in the background after the verdict and its id stored only once Telegram answered, so
 * the fake seeing the card is not enough: a kill -9 in between leaves a card Flowgate cannot edit.
 */
async function waitForStoredCard(gate: Gate, approvalId: string): Promise<void> {
  const runId = String((await approvalOf(gate, approvalId)).run_id);
  await waitFor(async () => ((await gate.chatCard(runId))?.messages.length ?? 0) > 0, {
    what: `the Telegram card of run "${runId}" stored`,
    intervalMs: 50,
  });
}

Deno.test("e2e: a tlp:amber publication waits for approval, survives a restart and is published once", async (t) => {
  await using gate = await startGate();
  const id = approvalIdOf(await gate.publish());
  assert.equal(gate.misp.event("1")?.published, false);

  await t.step("a card with Approve and Deny goes to the Telegram group", async () => {
    await waitFor(() => gate.telegram.messages.length > 0, { what: "the approval card" });
    const card = gate.telegram.messages[0]!;
    assert.equal(String(card.chat_id), TELEGRAM_GROUP);
    assert.match(String(card.text), /Awaiting approval/);
    assert.match(JSON.stringify(card.reply_markup), /Approve/);
    await waitForStoredCard(gate, id);
  });

  await t.step("the approval is listed pending, linked to its parked run", async () => {
    const list = await (await gate.api("/approvals")).json();
    assert.deepEqual(list.items.map((item: { id: string }) => item.id), [id]);
    const approval = await approvalOf(gate, id);
    assert.equal(approval.state, "pending");
    const run = await (await gate.api(`/runs/${approval.run_id}`)).json();
    assert.equal(run.outcome, "pending-approval");
  });

  await t.step("a kill -9 and a restart lose nothing", async () => {
    const before = await approvalOf(gate, id);
    await gate.restart();
    assert.deepEqual(await approvalOf(gate, id), before);
  });

  await t.step("a viewer and the publisher are refused", async () => {
    const viewer = await decide(gate, id, "approve", { approver: "slack:UVIEW" });
    assert.equal(viewer.status, 403);
    assert.match(String(viewer.json.error), /"slack:UVIEW" \(role "viewer"\) is not an approver/);
    const self = await decide(gate, id, "approve", { approver: PUBLISHER });
    assert.equal(self.status, 403);
    assert.match(String(self.json.error), /may not approve it \(self-approval is off\)/);
    assert.equal(gate.publishCalls(), 1);
    assert.equal((await approvalOf(gate, id)).state, "pending");
  });

  await t.step(
    "an allowed approver's approval publishes exactly once through the gate",
    async () => {
      const result = await decide(gate, id, "approve", { approver: "slack:URESP", reason: "OK" });
      assert.equal(result.status, 200, JSON.stringify(result.json));
      assert.equal(result.json.changed, true);
      const approval = result.json.approval as Record<string, unknown>;
      assert.equal(approval.state, "approved");
      assert.deepEqual(
        approval.publish && (approval.publish as { status: string }).status,
        "published",
      );
      assert.equal(gate.publishCalls(), 2);
      assert.equal(gate.misp.event("1")?.published, true);
      const runs = await (await gate.api("/runs?outcome=success")).json();
      assert.equal(runs.items.length, 1);
      assert.equal(runs.items[0].event.uuid, "5c6ab833-676c-42f3-95d2-034f0a00020f");
      await waitFor(
        () =>
          gate.telegram.calls.some((call) =>
            call.method === "editMessageText" && /Approved/.test(String(call.payload.text))
          ),
        { what: "the card edited to Approved" },
      );
    },
  );

  await t.step("a second press changes nothing", async () => {
    const again = await decide(gate, id, "approve", { approver: "slack:URESP" });
    assert.equal(again.status, 200);
    assert.equal(again.json.changed, false);
    assert.equal(gate.publishCalls(), 2);
  });

  await t.step("a changed event is blocked again and needs a new approval", async () => {
    const edit = await fetch(`${gate.misp.url}/events/edit/1`, {
      method: "POST",
      headers: { Authorization: gate.misp.apiKey, "Content-Type": "application/json" },
      body: JSON.stringify({ Event: { info: "Changed after approval" } }),
    });
    await edit.body?.cancel();
    const next = approvalIdOf(await gate.publish());
    assert.notEqual(next, id);
    assert.equal(gate.misp.event("1")?.published, false);
  });
});

Deno.test("e2e: an unanswered approval times out as denied, even across a restart", async () => {
  await using gate = await startGate({ timeout_seconds: '"2"', reminder_seconds: '"0"' });
  const id = approvalIdOf(await gate.publish());
  await waitForStoredCard(gate, id);
  const killedAt = Date.now();
  await gate.restart();
  // Done once the decision is recorded and MISP's state was checked after it. Under load the
  // restart alone can outlast the 2 s timeout, so wait for that state, not for a time.
  let approval: Record<string, unknown> = {};
  await waitFor(async () => {
    approval = await approvalOf(gate, id);
    return (approval.history as { type: string }[]).at(-1)?.type === "state-check";
  }, {
    what: `approval "${id}" timed out and checked against MISP`,
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  const timedOutAt = (approval.history as { type: string; at: string }[])
    .find((entry) => entry.type === "timeout")?.at;
  assert.ok(
    timedOutAt !== undefined && Date.parse(timedOutAt) >= killedAt,
    `approval "${id}" timed out at ${timedOutAt}, before the restart: nothing crossed it`,
  );
  assert.equal(approval.state, "denied");
  assert.equal((approval.decision as { actor: string }).actor, "flowgate:timeout");
  const types = (approval.history as { type: string }[]).map((entry) => entry.type);
  assert.deepEqual(types, ["created", "timeout", "denied", "state-check"]);
  assert.equal(gate.publishCalls(), 1);
  assert.equal(gate.misp.event("1")?.published, false);
  await waitFor(
    () =>
      gate.telegram.calls.some((call) =>
        call.method === "editMessageText" && /Denied/.test(String(call.payload.text))
      ),
    { what: "the card edited to Denied" },
  );
});

Deno.test("e2e: a dry replay with diff makes no outbound call", async () => {
  await using gate = await startGate();
  approvalIdOf(await gate.publish());
  const runs = await (await gate.api("/runs?outcome=pending-approval")).json();
  const runId = runs.items[0].id;
  const workflow = (await (await gate.api("/workflows")).json()).items[0];
  const changed = await gate.api(`/workflows/${workflow.id}`, {
    method: "PUT",
    headers: { "Content-Type": "application/yaml" },
    body: (await approvalWorkflowYaml()).replace("tags: [tlp:amber]", "tags: [tlp:red]"),
  });
  assert.equal(changed.status, 200);
  await changed.body?.cancel();
  await waitFor(() => gate.telegram.messages.length > 0, { what: "the approval card" });
  const requests = gate.misp.requests.length;
  const chatCalls = gate.telegram.requests.length;
  const approvals = (await (await gate.api("/approvals")).json()).items.length;

  const replay = await gate.api(`/runs/${runId}/replay`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ mode: "current", dry: true }),
  });
  assert.equal(replay.status, 201);
  const body = await replay.json();
  assert.equal(body.replay_of, runId);
  assert.equal(body.outcome, "success");
  assert.deepEqual(body.diff.outcome, {
    before: "pending-approval",
    after: "success",
    changed: true,
  });
  assert.deepEqual(
    body.diff.nodes.map((node: { node_id: string; change: string }) => [node.node_id, node.change]),
    [["is-amber", "decision"], ["approval", "no-longer-runs"]],
  );

  const original = await gate.api(`/runs/${runId}/replay`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ mode: "original", dry: true }),
  });
  const same = await original.json();
  assert.equal(same.outcome, "pending-approval");
  assert.equal(same.diff.changed, false);
  assert.equal(gate.misp.requests.length, requests);
  assert.equal(gate.telegram.requests.length, chatCalls);
  assert.equal((await (await gate.api("/approvals")).json()).items.length, approvals);
});
