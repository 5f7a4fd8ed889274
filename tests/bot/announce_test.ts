import assert from "node:assert/strict";
import { announceRun } from "../../bot/announce.ts";
import { listAudit } from "../../store/audit.ts";
import { getChatCard } from "../../store/chat_cards.ts";
import { putChatVenue } from "../../store/chat_roles.ts";
import { getRun, listRuns } from "../../store/runs.ts";
import { createWorkflow } from "../../store/workflows.ts";
import { decideVerdict } from "../../services/verdict.ts";
import { node, workflowOf } from "../engine/fake_modules.ts";
import { realEvent } from "../server/test_app.ts";
import { waitFor } from "../fixtures/wait_for.ts";
import {
  type ChatHarness,
  SLACK_CHANNEL,
  SLACK_RESPONDER,
  startChatHarness,
  TELEGRAM_CHAT,
  TELEGRAM_RESPONDER,
  telegramCallbackUpdate,
} from "./chat_harness.ts";

async function blockRun(h: ChatHarness, options: { tlpRed?: boolean } = {}) {
  await createWorkflow(
    h.test.kv,
    workflowOf("event-publish", [
      node("trigger", "event-publish", "trigger", [["stop"]]),
      node("stop", "stop-execution", "action", [], { message: "Publication blocked by policy" }),
    ], "gate"),
    { actor: "test", sourceFormat: "yaml" },
  );
  const verdict = await decideVerdict(h.test.ctx, "event-publish", await realEvent(options), {
    actor: { kind: "misp" },
  });
  assert.equal(verdict.allow, false);
  return (await getRun(h.test.kv, verdict.runIds[0]!))!;
}

Deno.test("a blocked run is announced as a card with buttons in both chats", async () => {
  await using h = await startChatHarness();
  const run = await blockRun(h);
  const posted = await announceRun(h.chat.core, run);
  assert.equal(posted.length, 2);

  const slackPost = h.slack.calls.find((call) => call.method === "chat.postMessage")!;
  assert.equal(slackPost.payload.channel, SLACK_CHANNEL);
  const blocks = JSON.stringify(slackPost.payload.blocks);
  for (
    const text of [
      "Blocked: gate",
      "This is the description",
      "ORGNAME",
      "stop (stop-execution)",
      "Publication blocked by policy",
      run.id,
    ]
  ) {
    assert.ok(blocks.includes(text), `Slack card lacks "${text}"`);
  }
  assert.match(blocks, /"action_id":"flowgate_replay","value":"[0-9A-Z]{26}"/);
  assert.match(blocks, /"action_id":"flowgate_trace"/);

  const telegramPost = h.telegram.calls.find((call) => call.method === "sendMessage")!;
  assert.equal(String(telegramPost.payload.chat_id), TELEGRAM_CHAT);
  assert.match(String(telegramPost.payload.text), /<b>Deciding node:<\/b> stop \(stop-execution\)/);
  assert.deepEqual(
    (telegramPost.payload.reply_markup as { inline_keyboard: { callback_data: string }[][] })
      .inline_keyboard[0]!.map((button) => button.callback_data),
    [`fg:replay:${run.id}`, `fg:trace:${run.id}`],
  );
  const card = await getChatCard(h.test.kv, run.id);
  assert.deepEqual(card?.messages.map((message) => message.platform).sort(), ["slack", "telegram"]);
});

Deno.test("TLP:RED content never reaches a chat cleared only for amber", async () => {
  await using h = await startChatHarness();
  await putChatVenue(h.test.kv, {
    platform: "telegram",
    "chat_id": TELEGRAM_CHAT,
    commands: true,
    announce: true,
    "max_tlp": "red",
    "updated_by": "test",
    "updated_at": new Date().toISOString(),
  });
  const run = await blockRun(h, { tlpRed: true });
  await announceRun(h.chat.core, run);
  const slackText = JSON.stringify(h.slack.calls.find((c) => c.method === "chat.postMessage"));
  assert.ok(!slackText.includes("This is the description"));
  assert.ok(!slackText.includes("ORGNAME"));
  assert.ok(!slackText.includes("Publication blocked by policy"));
  assert.match(slackText, /TLP:RED content withheld from this chat: see GET \/api\/runs\//);
  const telegramText = String(
    h.telegram.calls.find((c) => c.method === "sendMessage")?.payload.text,
  );
  assert.match(telegramText, /This is the description/);
  assert.match(telegramText, /TLP:RED \/ PAP unmarked/);
});

Deno.test("pressing Replay on Slack and Telegram records each press once and edits every copy", async () => {
  await using h = await startChatHarness();
  const run = await blockRun(h);
  await announceRun(h.chat.core, run);
  const slackTs = String(
    (await getChatCard(h.test.kv, run.id))!.messages.find((m) => m.platform === "slack")!
      .message_id,
  );
  const telegramMessageId = Number(
    (await getChatCard(h.test.kv, run.id))!.messages.find((m) => m.platform === "telegram")!
      .message_id,
  );

  assert.equal((await h.blockAction("replay", run.id, { messageTs: slackTs })).status, 200);
  await waitFor(() => Promise.resolve(h.slack.calls.some((call) => call.method === "respond")));
  assert.equal((await h.blockAction("replay", run.id, { messageTs: slackTs })).status, 200);

  const update = telegramCallbackUpdate(run.id, "replay", { messageId: telegramMessageId });
  assert.equal((await h.telegramUpdate(update)).status, 200);
  assert.equal((await h.telegramUpdate(update)).status, 200);

  const replays = (await listRuns(h.test.kv)).items.filter((item) => item.replay_of === run.id);
  assert.equal(replays.length, 2);
  assert.ok(replays.every((item) => item.dry_run && item.actor.kind === "chat"));
  assert.deepEqual(
    replays.map((item) => item.actor.id).sort(),
    [`slack:${SLACK_RESPONDER}`, `telegram:${TELEGRAM_RESPONDER}`],
  );
  const events = (await getChatCard(h.test.kv, run.id))!.events;
  assert.equal(events.length, 2);

  const slackEdits = h.slack.calls.filter((call) => call.method === "chat.update");
  const telegramEdits = h.telegram.calls.filter((call) => call.method === "editMessageText");
  assert.equal(slackEdits.length, 2);
  assert.equal(telegramEdits.length, 2);
  assert.equal(slackEdits[0]!.payload.ts, slackTs);
  assert.match(
    JSON.stringify(slackEdits[1]!.payload.blocks),
    /Dry replay: run .* blocked \(same as the original\): by telegram:1002 at/,
  );
  assert.equal(telegramEdits[0]!.payload.message_id, telegramMessageId);
  assert.ok(h.telegram.calls.some((call) => call.method === "answerCallbackQuery"));
  const buttons = (await listAudit(h.test.kv)).items.filter((entry) =>
    entry.action === "chat.button"
  );
  assert.equal(buttons.length, 2);
  assert.deepEqual(buttons.map((entry) => entry.details?.platform).sort(), ["slack", "telegram"]);
});

Deno.test("Approve and Deny say so when the server has no approval service", async () => {
  await using h = await startChatHarness();
  const run = await blockRun(h);
  await h.telegramUpdate(telegramCallbackUpdate(run.id, "deny", { messageId: 1 }));
  const answer = h.telegram.calls.find((call) => call.method === "answerCallbackQuery");
  assert.match(String(answer?.payload.text), /Approvals are not available on this Flowgate server/);
  assert.equal(await getChatCard(h.test.kv, run.id), null);
  await h.telegramText(`/deny ${run.id} looks fine`, { from: TELEGRAM_RESPONDER });
  assert.match(
    String(h.telegram.calls.at(-1)?.payload.text),
    /Approvals are not available on this Flowgate server/,
  );
});

Deno.test("Trace posts the run's path and deciding node; a viewer-less user is refused", async () => {
  await using h = await startChatHarness();
  const run = await blockRun(h);
  await h.telegramUpdate(telegramCallbackUpdate(run.id, "trace", { messageId: 1 }));
  const reply = h.telegram.calls.find((call) => call.method === "sendMessage");
  assert.match(String(reply?.payload.text), /<pre>0\. trigger \[event-publish\]/);
  assert.match(
    String(reply?.payload.text),
    /1\. stop \[stop-execution\] failure result false error: Publication blocked by policy/,
  );

  await h.telegramUpdate(telegramCallbackUpdate(run.id, "trace", { messageId: 1, from: "777" }));
  const answers = h.telegram.calls.filter((call) => call.method === "answerCallbackQuery");
  assert.match(String(answers.at(-1)?.payload.text), /Not allowed: you have no Flowgate role/);
});
