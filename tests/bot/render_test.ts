import assert from "node:assert/strict";
import type { Card } from "../../bot/cards.ts";
import { slackMessage } from "../../bot/slack_render.ts";
import { parseCallbackData, telegramMessage } from "../../bot/telegram_render.ts";
import { registerSecret } from "../../engine/log.ts";

const SECRET = "s3cr3t-token-for-render-test";

const card: Card = {
  title: "Blocked: <gate>",
  fields: [{ label: "Reason", value: `a & b <script> ${SECRET}` }],
  blocks: [{ kind: "code", text: "0. x [y] <z>" }],
  buttons: [{ action: "replay", label: "Replay (dry)", value: "01RUN", style: "primary" }],
};

Deno.test("slackMessage() escapes mrkdwn, redacts secrets and maps buttons to action ids", () => {
  registerSecret(SECRET);
  const message = slackMessage(card);
  const json = JSON.stringify(message);
  assert.ok(!json.includes(SECRET));
  assert.match(json, /a &amp; b &lt;script&gt; \[redacted\]/);
  assert.match(json, /```0\. x \[y\] &lt;z&gt;```/);
  assert.deepEqual(message.blocks.at(-1), {
    type: "actions",
    "block_id": "flowgate_actions",
    elements: [{
      type: "button",
      text: { type: "plain_text", text: "Replay (dry)" },
      "action_id": "flowgate_replay",
      value: "01RUN",
      style: "primary",
    }],
  });
});

Deno.test("telegramMessage() escapes HTML, redacts secrets and builds callback data", () => {
  registerSecret(SECRET);
  const message = telegramMessage(card);
  assert.equal(
    message.text,
    "<b>Blocked: &lt;gate&gt;</b>\n<b>Reason:</b> a &amp; b &lt;script&gt; [redacted]\n" +
      "<pre>0. x [y] &lt;z&gt;</pre>",
  );
  assert.deepEqual(message.reply_markup, {
    "inline_keyboard": [[{ text: "Replay (dry)", "callback_data": "fg:replay:01RUN" }]],
  });
  assert.deepEqual(parseCallbackData("fg:replay:01RUN"), { action: "replay", value: "01RUN" });
  assert.equal(parseCallbackData("fg:explode:01RUN"), null);
  assert.equal(telegramMessage({ ...card, buttons: [] }).reply_markup, undefined);
});

Deno.test("telegramMessage() stays under Telegram's 4,096 characters", () => {
  const big: Card = {
    fields: Array.from({ length: 20 }, (_, i) => ({ label: `F${i}`, value: "x".repeat(1_000) })),
    blocks: [{ kind: "code", text: "y".repeat(10_000) }],
    buttons: [],
  };
  assert.ok(telegramMessage(big).text.length <= 4_096);
});
