import assert from "node:assert/strict";
import { createChat } from "../../bot/chat_routes.ts";
import { getApproval } from "../../store/approvals.ts";
import { getWorkflow } from "../../store/workflows.ts";
import type { TelegramApi } from "../fakes/telegram_api.ts";
import { captureLogs } from "../fixtures/log_capture.ts";
import { waitFor } from "../fixtures/wait_for.ts";
import {
  addGate,
  nextUpdateId,
  TELEGRAM_ADMIN,
  TELEGRAM_CHAT,
  TELEGRAM_RESPONDER,
  telegramCallbackUpdate,
} from "./chat_harness.ts";
import { startConnectedChat } from "./connected_chat_harness.ts";

/** A text message update from `from` in the SOC group. */
function textUpdate(text: string, from = TELEGRAM_ADMIN): Record<string, unknown> {
  const id = nextUpdateId();
  return {
    "update_id": id,
    message: {
      "message_id": id,
      date: Math.floor(Date.now() / 1_000),
      chat: { id: Number(TELEGRAM_CHAT), type: "supergroup", title: "SOC" },
      from: { id: Number(from), "is_bot": false, "first_name": "Someone" },
      text,
      entities: [{ type: "bot_command", offset: 0, length: text.split(" ")[0]!.length }],
    },
  };
}

const sent = (chat: { telegram: TelegramApi }) =>
  chat.telegram.calls.filter((call) => call.method === "sendMessage");

Deno.test("Telegram long polling deletes the webhook first, then answers /list from getUpdates", async () => {
  await using chat = await startConnectedChat({
    telegramWebhook: "https://flowgate.example.org/telegram",
  });
  assert.equal(chat.telegram.webhookUrl(), "");
  const methods = chat.telegram.calls.map((call) => call.method);
  assert.ok(
    methods.indexOf("deleteWebhook") < methods.indexOf("getUpdates"),
    `deleteWebhook must come before getUpdates: ${methods.join(", ")}`,
  );
  await addGate(chat.test.kv);
  const update = textUpdate("/list");
  chat.telegram.pushUpdate(update);
  await waitFor(() => sent(chat).length === 1, { what: "the /list answer" });
  const answer = sent(chat)[0]!;
  assert.equal(String(answer.payload.chat_id), TELEGRAM_CHAT);
  assert.match(String(answer.payload.text), /<b>Workflows \(1\)<\/b>\ngate · event-publish/);
  // The next poll confirms the update, so Telegram does not send it again.
  await waitFor(
    () =>
      chat.telegram.calls.some((call) =>
        call.method === "getUpdates" && call.payload.offset === Number(update.update_id) + 1
      ),
    { what: "getUpdates with the offset past the handled update" },
  );
});

Deno.test("Telegram long polling: Deny pressed on a card decides the approval and edits the cards", async () => {
  await using chat = await startConnectedChat({ approvals: true });
  const { run, approvalId, telegramId } = await chat.parkAndAnnounce();
  chat.telegram.pushUpdate(
    telegramCallbackUpdate(run.id, "deny", { messageId: telegramId, from: TELEGRAM_RESPONDER }),
  );
  await waitFor(async () => (await getApproval(chat.test.kv, approvalId))?.state === "denied", {
    what: "the approval denied",
  });
  assert.equal(
    (await getApproval(chat.test.kv, approvalId))!.decision?.actor,
    `telegram:${TELEGRAM_RESPONDER}`,
  );
  await waitFor(
    () => chat.telegram.calls.some((call) => call.method === "answerCallbackQuery"),
    { what: "the callback query answered" },
  );
  await waitFor(() => chat.telegram.calls.some((call) => call.method === "editMessageText"), {
    what: "the Telegram card edited",
  });
  const edit = chat.telegram.calls.find((call) => call.method === "editMessageText")!;
  assert.equal(edit.payload.message_id, telegramId);
  assert.equal(edit.payload.reply_markup, undefined);
  await waitFor(() => chat.slack.calls.some((call) => call.method === "chat.update"), {
    what: "the Slack copy of the card edited",
  });
});

Deno.test("Telegram long polling: an update Telegram sends again after a restart is handled once", async () => {
  await using chat = await startConnectedChat();
  const id = await addGate(chat.test.kv);
  const update = textUpdate("/disable gate for 30m");
  chat.telegram.pushUpdate(update);
  await waitFor(() => sent(chat).length === 1, { what: "the /disable answer" });
  const version = (await getWorkflow(chat.test.kv, id))?.version;
  assert.equal((await getWorkflow(chat.test.kv, id))?.workflow.enabled, false);
  await chat.test.chat.stop();

  // A new process did not see the confirmation: its first getUpdates gets the update again.
  const restarted = createChat(chat.test.ctx, {
    telegram: { botInfo: chat.test.chat.telegram!.bot.botInfo, retryMs: { first: 10, max: 100 } },
  });
  chat.telegram.pushUpdate(update);
  chat.telegram.pushUpdate(textUpdate("/help"));
  restarted.telegram!.polling!.start();
  try {
    await waitFor(() => sent(chat).length === 2, { what: "the /help answer after the restart" });
    assert.match(String(sent(chat)[1]!.payload.text), /Flowgate/);
    const polls = chat.telegram.calls.filter((call) => call.method === "getUpdates");
    assert.ok(polls.some((call) => call.payload.offset === 1), "the restarted bot polled from 1");
    assert.equal((await getWorkflow(chat.test.kv, id))?.version, version);
  } finally {
    await restarted.stop();
  }
});

Deno.test("Telegram long polling survives failing getUpdates calls: 409 restarts it, 5xx is retried", async () => {
  using logs = captureLogs();
  await using chat = await startConnectedChat({ start: false });
  chat.telegram.failNext(1, 409, "getUpdates");
  chat.test.chat.start();
  await waitFor(
    () => logs.lines.some((line) => line.includes("long polling stopped; restarting")),
    { what: "the 409 logged" },
  );
  await waitFor(
    () => chat.telegram.calls.filter((call) => call.method === "deleteWebhook").length === 2,
    { what: "polling restarted (the webhook deleted again)" },
  );
  chat.telegram.pushUpdate(textUpdate("/help"));
  await waitFor(() => sent(chat).length === 1, { what: "the /help answer after the restart" });

  // A 5xx is retried by grammY itself (after its own pause), without a restart.
  chat.telegram.failNext(1, 502, "getUpdates");
  chat.telegram.pushUpdate(textUpdate("/help"));
  await waitFor(() => sent(chat).length === 2, { what: "the /help answer after a 502" });
  assert.equal(chat.telegram.calls.filter((call) => call.method === "deleteWebhook").length, 2);
  assert.equal(chat.test.chat.telegram?.polling?.state(), "polling");
  assert.ok(!logs.lines.some((line) => line.includes("TEST-telegram-token")), "token in the log");
});

Deno.test("Telegram long polling: a refused bot token stops polling with an error, not the process", async () => {
  using logs = captureLogs();
  await using chat = await startConnectedChat({
    telegramToken: "4242:REVOKED-token",
    start: false,
  });
  chat.test.chat.start();
  await waitFor(() => chat.test.chat.telegram?.polling?.state() === "failed", {
    what: "polling given up",
  });
  const line = logs.lines.find((entry) => entry.includes("Telegram refused the bot token"));
  assert.match(line ?? "", /TELEGRAM_BOT_TOKEN/);
  assert.ok(!logs.lines.some((entry) => entry.includes("REVOKED-token")), "token in the log");
});

Deno.test("Telegram long polling: POST /telegram answers 404 and says the bot polls", async () => {
  await using chat = await startConnectedChat({ start: false });
  const response = await chat.test.request("/telegram", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(textUpdate("/list")),
  });
  assert.equal(response.status, 404);
  assert.match((await response.json()).error, /long polling/);
});

Deno.test("Telegram long polling: stop ends the pending long poll and confirms the offset", async () => {
  await using chat = await startConnectedChat();
  const update = textUpdate("/help");
  chat.telegram.pushUpdate(update);
  await waitFor(() => sent(chat).length === 1, { what: "the /help answer" });
  await chat.test.chat.stop();
  assert.equal(chat.test.chat.telegram?.polling?.state(), "stopped");
  const last = chat.telegram.calls.filter((call) => call.method === "getUpdates").at(-1)!;
  assert.equal(last.payload.offset, Number(update.update_id) + 1);
  const polls = chat.telegram.calls.filter((call) => call.method === "getUpdates").length;
  chat.telegram.pushUpdate(textUpdate("/help"));
  // Nothing polls any more: a request to the fake proves the update stays queued.
  await fetch(`${chat.telegram.url}/bot4242:TEST-telegram-token/getMe`).then((r) => r.text());
  assert.equal(chat.telegram.calls.filter((call) => call.method === "getUpdates").length, polls);
});
