import assert from "node:assert/strict";
import { getApproval } from "../../store/approvals.ts";
import { listAudit } from "../../store/audit.ts";
import { captureLogs } from "../fixtures/log_capture.ts";
import { waitFor } from "../fixtures/wait_for.ts";
import {
  addGate,
  appMentionEvent,
  blockActionPayload,
  SLACK_ADMIN,
  SLACK_RESPONDER,
} from "./chat_harness.ts";
import { slashCommandPayload, startConnectedChat } from "./connected_chat_harness.ts";

Deno.test("Slack Socket Mode connects with the app token and answers /flowgate list sent over the socket", async () => {
  await using chat = await startConnectedChat();
  await addGate(chat.test.kv);
  const open = chat.slack.calls.filter((call) => call.method === "apps.connections.open");
  assert.equal(open.length, 1);

  const id = chat.socket.send(
    "slash_commands",
    slashCommandPayload(chat.slack, "list", { triggerId: "socket-list" }),
  );
  await waitFor(() => chat.socket.acked(id), { what: "the slash command envelope acked" });
  await waitFor(() => chat.slack.calls.some((call) => call.method === "respond"), {
    what: "the command's answer posted to its response_url",
  });
  const respond = chat.slack.calls.find((call) => call.method === "respond")!;
  assert.match(String(respond.payload.text), /gate · event-publish · order 100 · enabled/);
  assert.equal(respond.payload.response_type, "in_channel");
  const audit = (await listAudit(chat.test.kv)).items;
  assert.equal(audit[0]?.action, "chat.command");
  assert.equal(audit[0]?.actor, `slack:${SLACK_ADMIN}@C0SOC`);
});

Deno.test("Slack Socket Mode: Deny pressed over the socket decides the approval and edits every card", async () => {
  await using chat = await startConnectedChat({ approvals: true });
  const { run, approvalId, slackTs, telegramId } = await chat.parkAndAnnounce();
  const id = chat.socket.send(
    "interactive",
    blockActionPayload(chat.slack, "deny", run.id, {
      messageTs: slackTs,
      triggerId: "socket-deny",
    }),
  );
  await waitFor(() => chat.socket.acked(id), { what: "the button envelope acked" });
  await waitFor(async () => (await getApproval(chat.test.kv, approvalId))?.state === "denied", {
    what: "the approval denied",
  });
  const approval = (await getApproval(chat.test.kv, approvalId))!;
  assert.equal(approval.decision?.actor, `slack:${SLACK_RESPONDER}`);
  await waitFor(() => chat.slack.calls.some((call) => call.method === "chat.update"), {
    what: "the Slack card edited",
  });
  const edited = chat.slack.calls.find((call) => call.method === "chat.update")!;
  assert.equal(edited.payload.ts, slackTs);
  assert.match(JSON.stringify(edited.payload.blocks), /Denied: by slack:U0RESP/);
  await waitFor(() => chat.telegram.calls.some((call) => call.method === "editMessageText"), {
    what: "the Telegram copy of the card edited",
  });
  const telegramEdit = chat.telegram.calls.find((call) => call.method === "editMessageText")!;
  assert.equal(telegramEdit.payload.message_id, telegramId);
  await waitFor(() => chat.slack.calls.some((call) => call.method === "respond"), {
    what: "the ephemeral notice to the presser",
  });
  assert.equal(
    chat.slack.calls.find((call) => call.method === "respond")!.payload.response_type,
    "ephemeral",
  );
});

Deno.test("Slack Socket Mode: an @mention (events_api) is answered in its thread", async () => {
  await using chat = await startConnectedChat();
  await addGate(chat.test.kv);
  const id = chat.socket.send("events_api", appMentionEvent("list", "1700000100.000100"));
  await waitFor(() => chat.socket.acked(id), { what: "the event envelope acked" });
  await waitFor(() => chat.slack.calls.some((call) => call.method === "chat.postMessage"), {
    what: "the answer posted",
  });
  const posted = chat.slack.calls.find((call) => call.method === "chat.postMessage")!;
  assert.equal(posted.payload.channel, "C0SOC");
  assert.equal(posted.payload.thread_ts, "1700000100.000100");
  assert.match(String(posted.payload.text), /gate · event-publish/);
});

Deno.test("Slack Socket Mode: an envelope Slack delivers again is acked and handled once", async () => {
  await using chat = await startConnectedChat();
  const payload = slashCommandPayload(chat.slack, "list", { triggerId: "socket-twice" });
  const first = chat.socket.send("slash_commands", payload);
  await waitFor(() => chat.slack.calls.some((call) => call.method === "respond"), {
    what: "the first delivery answered",
  });
  const again = chat.socket.send("slash_commands", payload);
  await waitFor(() => chat.socket.acked(first) && chat.socket.acked(again), {
    what: "both deliveries acked",
  });
  // A later command answered proves the second delivery was processed (and ignored) before it.
  chat.socket.send("slash_commands", slashCommandPayload(chat.slack, "help", { triggerId: "t3" }));
  await waitFor(
    () => chat.slack.calls.filter((call) => call.method === "respond").length >= 2,
    { what: "the next command answered" },
  );
  const responds = chat.slack.calls.filter((call) => call.method === "respond");
  assert.deepEqual(responds.map((call) => call.responseId), [
    "socket-twice",
    "t3",
  ]);
});

Deno.test("Slack Socket Mode reconnects with a new URL when Slack asks, and keeps answering", async () => {
  await using chat = await startConnectedChat();
  chat.socket.requestReconnect();
  await waitFor(() => chat.socket.connections() === 2 && chat.socket.connected(), {
    what: "the client to reconnect",
  });
  assert.equal(
    chat.slack.calls.filter((call) => call.method === "apps.connections.open").length,
    2,
  );
  const id = chat.socket.send(
    "slash_commands",
    slashCommandPayload(chat.slack, "list", { triggerId: "after-reconnect" }),
  );
  await waitFor(() => chat.socket.acked(id), { what: "the envelope acked after reconnecting" });
});

Deno.test("Slack Socket Mode: a refused app token is logged without the token and retried until stop", async () => {
  using logs = captureLogs();
  const wrongToken = "xapp-1-A0APP-revoked-token";
  await using chat = await startConnectedChat({ appToken: wrongToken, start: false });
  chat.test.chat.start();
  await waitFor(
    () => logs.lines.filter((line) => line.includes("could not connect")).length >= 2,
    { what: "two failed attempts logged" },
  );
  assert.match(logs.lines.find((line) => line.includes("could not connect"))!, /invalid_auth/);
  assert.ok(!logs.lines.some((line) => line.includes(wrongToken)), "the app token reached the log");
  assert.equal(chat.socket.connections(), 0);
  assert.equal(chat.test.chat.slack?.socket?.state() !== "connected", true);
});

Deno.test("Slack Socket Mode: the app token revoked while connected is logged and retried, the process lives", async () => {
  using logs = captureLogs();
  await using chat = await startConnectedChat();
  chat.slack.revokeAppToken();
  chat.socket.requestReconnect();
  await waitFor(
    () => logs.lines.filter((line) => line.includes("could not connect")).length >= 2,
    { what: "two failed reconnections logged" },
  );
  assert.match(logs.lines.find((line) => line.includes("could not connect"))!, /invalid_auth/);
  assert.equal(chat.test.chat.slack?.socket?.state() === "connected", false);
  assert.equal(chat.socket.connections(), 1);
});

Deno.test("/healthz and the status command say Slack uses Socket Mode and Telegram polls", async () => {
  await using chat = await startConnectedChat();
  const health = await (await chat.test.request("/healthz")).json();
  assert.deepEqual(health.chat_transports, { slack: "socket", telegram: "polling" });
  const id = chat.socket.send(
    "slash_commands",
    slashCommandPayload(chat.slack, "status", { triggerId: "socket-status" }),
  );
  await waitFor(() => chat.socket.acked(id), { what: "the status command acked" });
  await waitFor(() => chat.slack.calls.some((call) => call.method === "respond"), {
    what: "the status answer",
  });
  assert.match(
    JSON.stringify(chat.slack.calls.find((call) => call.method === "respond")!.payload),
    /Chat transports: slack over Socket Mode \(connected\), telegram over long polling \(polling\)/,
  );
});

Deno.test("Slack Socket Mode: POST /slack/events answers 404 and says Slack uses the socket", async () => {
  await using chat = await startConnectedChat({ start: false });
  const response = await chat.test.request("/slack/events", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-slack-signature": "v0=00",
      "x-slack-request-timestamp": String(Math.floor(Date.now() / 1_000)),
    },
    body: "{}",
  });
  assert.equal(response.status, 404);
  assert.match((await response.json()).error, /Socket Mode/);
});

Deno.test("Slack Socket Mode: stop closes the socket and stops reconnecting", async () => {
  await using chat = await startConnectedChat();
  await chat.test.chat.stop();
  await waitFor(() => !chat.socket.connected(), { what: "the socket closed" });
  assert.equal(chat.test.chat.slack?.socket?.state(), "stopped");
  assert.equal(chat.socket.connections(), 1);
});
