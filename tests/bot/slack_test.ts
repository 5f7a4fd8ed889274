import assert from "node:assert/strict";
import { listAudit } from "../../store/audit.ts";
import { getWorkflow } from "../../store/workflows.ts";
import { waitFor } from "../fixtures/wait_for.ts";
import {
  addGate,
  appMentionEvent,
  SIGNING_SECRET,
  SLACK_ADMIN,
  SLACK_RESPONDER,
  slackSignature,
  startChatHarness,
} from "./chat_harness.ts";

Deno.test("Slack /flowgate list acks at once and responds with the workflows", async () => {
  await using h = await startChatHarness();
  await addGate(h.test.kv);
  const response = await h.slashCommand("list");
  assert.equal(response.status, 200);
  await waitFor(() => Promise.resolve(h.slack.calls.some((call) => call.method === "respond")));
  const respond = h.slack.calls.find((call) => call.method === "respond")!;
  assert.match(String(respond.payload.text), /gate · event-publish · order 100 · enabled/);
  assert.equal(respond.payload.response_type, "in_channel");
  const audit = (await listAudit(h.test.kv)).items;
  assert.equal(audit[0]?.action, "chat.command");
  assert.equal(audit[0]?.actor, `slack:${SLACK_ADMIN}@C0SOC`);
});

Deno.test("Slack requests with a bad, stale or future signature get 401 and change nothing", async (t) => {
  await using h = await startChatHarness();
  const id = await addGate(h.test.kv);
  const now = Math.floor(Date.now() / 1_000);
  const cases = [
    { name: "wrong secret", options: { secret: "not-the-signing-secret" } },
    { name: "stale timestamp", options: { timestamp: now - 301 } },
    { name: "future timestamp", options: { timestamp: now + 301 } },
  ];
  for (const { name, options } of cases) {
    await t.step(name, async () => {
      const response = await h.slashCommand("disable gate", options);
      assert.equal(response.status, 401);
      assert.match((await response.json()).error, /Slack request/);
    });
  }
  await t.step("no signature headers at all", async () => {
    const response = await h.request("/slack/events", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "url_verification", challenge: "x" }),
    });
    assert.equal(response.status, 401);
  });
  assert.equal((await getWorkflow(h.test.kv, id))?.workflow.enabled, true);
  assert.equal(h.slack.calls.length, 0);
  assert.equal((await listAudit(h.test.kv)).items.length, 0);
});

Deno.test("Slack url_verification is answered with the challenge once signed", async () => {
  await using h = await startChatHarness();
  const body = JSON.stringify({ type: "url_verification", challenge: "c-123", token: "t" });
  const timestamp = Math.floor(Date.now() / 1_000);
  const response = await h.request("/slack/events", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": await slackSignature(SIGNING_SECRET, timestamp, body),
    },
    body,
  });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { challenge: "c-123" });
});

Deno.test("Slack disable is refused to a responder and done for an admin", async () => {
  await using h = await startChatHarness();
  const id = await addGate(h.test.kv);
  await h.slashCommand("disable gate for 2h", { user: SLACK_RESPONDER });
  await waitFor(() => Promise.resolve(h.slack.calls.length === 1));
  assert.match(
    String(h.slack.calls[0]!.payload.text),
    /needs the admin role and you are responder/,
  );
  assert.equal(h.slack.calls[0]!.payload.response_type, "ephemeral");
  assert.equal((await getWorkflow(h.test.kv, id))?.workflow.enabled, true);

  await h.slashCommand("disable gate for 2h", { user: SLACK_ADMIN });
  await waitFor(() => Promise.resolve(h.slack.calls.length === 2));
  assert.match(String(h.slack.calls[1]!.payload.text), /disabled by slack:U0ADMIN until/);
  const stored = await getWorkflow(h.test.kv, id);
  assert.equal(stored?.workflow.enabled, false);
  assert.equal(stored?.updated_by, `slack:${SLACK_ADMIN}`);
  const until = Date.parse(stored!.disabled_until!);
  assert.ok(Math.abs(until - (Date.now() + 7_200_000)) < 60_000);
  const outcomes = (await listAudit(h.test.kv)).items.map((entry) => entry.details?.outcome);
  assert.deepEqual(outcomes, ["ok", "refused"]);
});

Deno.test("a replayed Slack slash command (same trigger_id) runs once", async () => {
  await using h = await startChatHarness();
  const id = await addGate(h.test.kv);
  const timestamp = Math.floor(Date.now() / 1_000);
  const body = new URLSearchParams({
    "channel_id": "C0SOC",
    "user_id": SLACK_ADMIN,
    command: "/flowgate",
    text: "disable gate",
    "response_url": h.slack.responseUrl("replayed"),
    "trigger_id": "trigger-replayed",
  }).toString();
  const send = async () =>
    await h.request("/slack/events", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": await slackSignature(SIGNING_SECRET, timestamp, body),
      },
      body,
    });
  assert.equal((await send()).status, 200);
  await waitFor(() => Promise.resolve(h.slack.calls.length === 1));
  // The duplicate is claimed before the response, so nothing is dispatched after it.
  assert.equal((await send()).status, 200);
  assert.equal(h.slack.calls.length, 1);
  assert.equal((await getWorkflow(h.test.kv, id))?.version, 2);
  assert.equal((await listAudit(h.test.kv)).items.length, 1);
});

Deno.test("Slack app_mention events run the command once; retries by event_id do nothing", async () => {
  await using h = await startChatHarness();
  await addGate(h.test.kv);
  const body = JSON.stringify(appMentionEvent("list", "1700000001.000100"));
  const send = async (retry?: string) => {
    const timestamp = Math.floor(Date.now() / 1_000);
    return await h.request("/slack/events", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": await slackSignature(SIGNING_SECRET, timestamp, body),
        ...(retry ? { "x-slack-retry-num": retry, "x-slack-retry-reason": "http_timeout" } : {}),
      },
      body,
    });
  };
  assert.equal((await send()).status, 200);
  await waitFor(() => Promise.resolve(h.slack.calls.length === 1));
  const post = h.slack.calls[0]!;
  assert.equal(post.method, "chat.postMessage");
  assert.equal(post.payload.thread_ts, "1700000001.000100");
  assert.match(String(post.payload.text), /gate · event-publish/);
  assert.equal((await send("1")).status, 200);
  assert.equal(h.slack.calls.length, 1);
});
