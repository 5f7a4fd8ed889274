import assert from "node:assert/strict";
import { announceRun } from "../../bot/announce.ts";
import { parseWorkflowYaml } from "../../engine/yaml_codec.ts";
import { MODULE_CATALOG } from "../../modules/registry.ts";
import { getApproval, listApprovals } from "../../store/approvals.ts";
import { getChatCard } from "../../store/chat_cards.ts";
import { getRun } from "../../store/runs.ts";
import { createWorkflow } from "../../store/workflows.ts";
import { decideVerdict } from "../../services/verdict.ts";
import { amberEvent, approvalWorkflowYaml } from "../fixtures/approval_setup.ts";
import { waitFor } from "../fixtures/wait_for.ts";
import {
  type ChatHarness,
  SLACK_ADMIN,
  SLACK_RESPONDER,
  startChatHarness,
  TELEGRAM_RESPONDER,
  telegramCallbackUpdate,
} from "./chat_harness.ts";

/** Parks the real tlp:amber event on the example require-approval workflow; announces it. */
async function parkAndAnnounce(h: ChatHarness) {
  const workflow = parseWorkflowYaml(await approvalWorkflowYaml(), { catalog: MODULE_CATALOG });
  await createWorkflow(h.test.kv, workflow, { actor: "test", sourceFormat: "yaml" });
  const verdict = await decideVerdict(h.test.ctx, "event-publish", await amberEvent(), {
    actor: { kind: "misp" },
  });
  assert.equal(verdict.allow, false);
  const run = (await getRun(h.test.kv, verdict.runIds[0]!))!;
  assert.equal(run.outcome, "pending-approval");
  await announceRun(h.chat.core, run);
  const card = (await getChatCard(h.test.kv, run.id))!;
  const [approval] = await listApprovals(h.test.kv);
  return {
    run,
    approvalId: approval!.id,
    slackTs: card.messages.find((m) => m.platform === "slack")!.message_id,
    telegramId: Number(card.messages.find((m) => m.platform === "telegram")!.message_id),
  };
}

Deno.test("a parked run's card offers Approve and Deny in both chats", async () => {
  await using h = await startChatHarness({ approvals: true });
  const { run, approvalId } = await parkAndAnnounce(h);
  const blocks = JSON.stringify(h.slack.calls.find((c) => c.method === "chat.postMessage"));
  assert.match(blocks, /Awaiting approval: require-approval-tlp-amber/);
  assert.match(blocks, new RegExp(`${approvalId}: pending, 0 of 1 vote`));
  for (const id of ["approve", "deny", "replay", "trace"]) {
    assert.match(blocks, new RegExp(`"action_id":"flowgate_${id}","value":"${run.id}"`));
  }
  const telegram = h.telegram.calls.find((c) => c.method === "sendMessage")!;
  const keyboard = (telegram.payload.reply_markup as { inline_keyboard: { text: string }[][] })
    .inline_keyboard[0]!.map((button) => button.text);
  assert.deepEqual(keyboard, ["Approve", "Deny", "Replay (dry)", "Trace"]);
});

Deno.test("Deny pressed in Slack is recorded once and every copy of the card loses its buttons", async () => {
  await using h = await startChatHarness({ approvals: true });
  const { run, approvalId, slackTs, telegramId } = await parkAndAnnounce(h);
  assert.equal((await h.blockAction("deny", run.id, { messageTs: slackTs })).status, 200);
  await waitFor(() => Promise.resolve(h.slack.calls.some((c) => c.method === "respond")));
  assert.equal((await h.blockAction("deny", run.id, { messageTs: slackTs })).status, 200);

  const approval = (await getApproval(h.test.kv, approvalId))!;
  assert.equal(approval.state, "denied");
  assert.equal(approval.decision?.actor, `slack:${SLACK_RESPONDER}`);
  assert.equal(approval.history.filter((entry) => entry.type === "denied").length, 1);

  const slackEdit = h.slack.calls.filter((c) => c.method === "chat.update");
  assert.equal(slackEdit.length, 1);
  assert.equal(slackEdit[0]!.payload.ts, slackTs);
  const edited = JSON.stringify(slackEdit[0]!.payload.blocks);
  assert.match(edited, /Denied: by slack:U0RESP at \d{4}-/);
  assert.ok(!edited.includes('"type":"actions"'), "the decided Slack card still has buttons");
  const telegramEdit = h.telegram.calls.filter((c) => c.method === "editMessageText");
  assert.equal(telegramEdit.length, 1);
  assert.equal(telegramEdit[0]!.payload.message_id, telegramId);
  assert.equal(telegramEdit[0]!.payload.reply_markup, undefined);
  assert.match(String(telegramEdit[0]!.payload.text), /Denied: by slack:U0RESP at/);
  const notice = h.slack.calls.find((c) => c.method === "respond");
  assert.equal(notice?.payload.response_type, "ephemeral");

  // A late press from Telegram changes nothing and says why.
  await h.telegramUpdate(
    telegramCallbackUpdate(run.id, "approve", { messageId: telegramId, from: TELEGRAM_RESPONDER }),
  );
  const answer = h.telegram.calls.filter((c) => c.method === "answerCallbackQuery").at(-1);
  assert.match(String(answer?.payload.text), /denied/i);
  assert.equal((await getApproval(h.test.kv, approvalId))!.state, "denied");
  assert.equal(h.telegram.calls.filter((c) => c.method === "editMessageText").length, 1);
});

Deno.test("Deny pressed in Telegram is recorded once, a redelivered update does nothing", async () => {
  await using h = await startChatHarness({ approvals: true });
  const { run, approvalId, telegramId } = await parkAndAnnounce(h);
  const press = telegramCallbackUpdate(run.id, "deny", {
    messageId: telegramId,
    from: TELEGRAM_RESPONDER,
  });
  assert.equal((await h.telegramUpdate(press)).status, 200);
  assert.equal((await h.telegramUpdate(press)).status, 200);
  const approval = (await getApproval(h.test.kv, approvalId))!;
  assert.equal(approval.state, "denied");
  assert.equal(approval.decision?.actor, `telegram:${TELEGRAM_RESPONDER}`);
  assert.equal(h.telegram.calls.filter((c) => c.method === "answerCallbackQuery").length, 1);
  assert.equal(h.telegram.calls.filter((c) => c.method === "editMessageText").length, 1);
  assert.equal(h.slack.calls.filter((c) => c.method === "chat.update").length, 1);
});

Deno.test("approve by command: a user without a role is refused, an admin approves with a reason", async () => {
  await using h = await startChatHarness({ approvals: true });
  const { run, approvalId } = await parkAndAnnounce(h);
  await h.telegramText(`/approve ${run.id}`, { from: "999" });
  assert.match(String(h.telegram.calls.at(-1)?.payload.text), /Not allowed/);
  await h.slashCommand(`approve ${approvalId} looks fine`, { user: SLACK_ADMIN });
  await waitFor(() => Promise.resolve(h.slack.calls.some((c) => c.method === "respond")));
  const approval = (await getApproval(h.test.kv, approvalId))!;
  assert.equal(approval.state, "approved");
  assert.equal(approval.votes[0]?.reason, "looks fine");
  await waitFor(() => Promise.resolve(h.slack.calls.some((c) => c.method === "chat.update")));
  assert.match(
    JSON.stringify(h.slack.calls.find((c) => c.method === "chat.update")),
    /Approved: by slack:U0ADMIN/,
  );
});

Deno.test("a decision taken while the card is being posted still reaches every copy", async () => {
  await using h = await startChatHarness({ approvals: true });
  const workflow = parseWorkflowYaml(await approvalWorkflowYaml(), { catalog: MODULE_CATALOG });
  await createWorkflow(h.test.kv, workflow, { actor: "test", sourceFormat: "yaml" });
  const verdict = await decideVerdict(h.test.ctx, "event-publish", await amberEvent(), {
    actor: { kind: "misp" },
  });
  const run = (await getRun(h.test.kv, verdict.runIds[0]!))!;
  const [approval] = await listApprovals(h.test.kv);
  // The API denies while the Telegram copy is on its way, before any message id is stored.
  const telegram = h.chat.core.senders.get("telegram")!;
  h.chat.core.senders.set("telegram", {
    ...telegram,
    async postCard(chatId, card) {
      await h.test.ctx.approvals!.decide(approval!.id, {
        actor: "api:admin",
        role: "admin",
        decision: "deny",
      });
      return await telegram.postCard(chatId, card);
    },
  });
  await announceRun(h.chat.core, run);
  const telegramEdit = h.telegram.calls.filter((c) => c.method === "editMessageText");
  assert.equal(telegramEdit.length, 1);
  assert.match(String(telegramEdit[0]!.payload.text), /Approval:<\/b> \w+: denied/);
  assert.equal(telegramEdit[0]!.payload.reply_markup, undefined);
  const slackEdit = h.slack.calls.filter((c) => c.method === "chat.update");
  assert.equal(slackEdit.length, 1);
  assert.ok(!JSON.stringify(slackEdit[0]!.payload.blocks).includes('"type":"actions"'));
});
