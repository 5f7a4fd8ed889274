/**
 * Chat without a public URL, end to end: `main.ts` run with exactly the flags of `deno task
 * start`, Slack in Socket Mode against the fake `apps.connections.open` and WebSocket server,
 * Telegram long polling the fake `getUpdates`. A command on each platform is answered, and
 * SIGTERM closes the socket and confirms the polled updates before the process exits 0.
 */

import assert from "node:assert/strict";
import { slashCommandPayload } from "../bot/connected_chat_harness.ts";
import { startSlackApi } from "../fakes/slack_api.ts";
import { startSlackSocket } from "../fakes/slack_socket.ts";
import { startTelegramApi } from "../fakes/telegram_api.ts";
import { startFlowgate } from "../fixtures/flowgate_process.ts";
import { waitFor } from "../fixtures/wait_for.ts";

const SLACK_TOKEN = "xoxb-e2e-socket";
const APP_TOKEN = "xapp-1-A0E2E-socket-token";
const TELEGRAM_TOKEN = "6161:E2E-polling-token";
const TELEGRAM_ADMIN = "601";

Deno.test("main.ts with the start task's flags: Slack Socket Mode and Telegram long polling answer, SIGTERM closes both", async () => {
  await using socket = startSlackSocket();
  await using slack = startSlackApi({
    token: SLACK_TOKEN,
    socketMode: { appToken: APP_TOKEN, server: socket },
  });
  await using telegram = startTelegramApi({ token: TELEGRAM_TOKEN, chats: [TELEGRAM_ADMIN] });
  await using flowgate = await startFlowgate({
    kvPath: ":memory:",
    adminToken: "e2e-admin-token-connections-0123",
    env: {
      FLOWGATE_LOG_LEVEL: "info",
      SLACK_BOT_TOKEN: SLACK_TOKEN,
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_API_URL: `${slack.url}/api`,
      TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
      FLOWGATE_TELEGRAM_MODE: "polling",
      TELEGRAM_API_ROOT: telegram.url,
      FLOWGATE_CHAT_ADMINS: `slack:UE2EADMIN,telegram:${TELEGRAM_ADMIN}`,
    },
  });
  const health = await (await fetch(`${flowgate.url}/healthz`)).json();
  assert.deepEqual(health.chat_transports, { slack: "socket", telegram: "polling" });

  await waitFor(() => socket.connected(), { what: "Flowgate's Socket Mode connection" });
  const id = socket.send("slash_commands", {
    ...slashCommandPayload(slack, "help", { user: "UE2EADMIN", triggerId: "e2e-help" }),
    "channel_id": "D0E2E",
    "channel_name": "directmessage",
  });
  await waitFor(() => socket.acked(id), { what: "the slash command acked over the socket" });
  await waitFor(() => slack.calls.some((call) => call.method === "respond"), {
    what: "the Slack answer",
  });
  assert.match(
    JSON.stringify(slack.calls.find((call) => call.method === "respond")!.payload),
    /Flowgate \(admin\)/,
  );

  await waitFor(() => telegram.calls.some((call) => call.method === "getUpdates"), {
    what: "Flowgate polling getUpdates",
  });
  telegram.pushUpdate({
    "update_id": 700,
    message: {
      "message_id": 1,
      date: Math.floor(Date.now() / 1_000),
      chat: { id: Number(TELEGRAM_ADMIN), type: "private", "first_name": "Admin" },
      from: { id: Number(TELEGRAM_ADMIN), "is_bot": false, "first_name": "Admin" },
      text: "/help",
      entities: [{ type: "bot_command", offset: 0, length: 5 }],
    },
  });
  await waitFor(() => telegram.messages.length === 1, { what: "the Telegram answer" });
  assert.match(String(telegram.messages[0]!.text), /Flowgate \(admin\)/);

  await flowgate.stop();
  assert.equal(socket.connected(), false);
  const lastPoll = telegram.calls.filter((call) => call.method === "getUpdates").at(-1)!;
  assert.equal(lastPoll.payload.offset, 701);
  const logs = flowgate.logs();
  assert.doesNotMatch(logs, /NotCapable|PermissionDenied|Requires \w+ access/);
  assert.ok(!logs.includes(APP_TOKEN) && !logs.includes(TELEGRAM_TOKEN), "a token in the log");
});
