import assert from "node:assert/strict";
import { type Card, MAX_CHANGES_BLOCK_CHARS, publicationChangesBlock } from "../../bot/cards.ts";
import { slackMessage } from "../../bot/slack_render.ts";
import { parseCallbackData, telegramMessage } from "../../bot/telegram_render.ts";
import { registerSecret } from "../../engine/log.ts";
import { publicationChanges } from "../../engine/publication_changes.ts";

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

Deno.test("publicationChangesBlock() shows a 10,000-attribute publication within both platforms' limits", async (t) => {
  const changes = publicationChanges({
    Event: {
      publish_timestamp: "0",
      Tag: [{ name: "tlp:green" }],
      Attribute: Array.from({ length: 10_000 }, (_, i) => ({
        id: String(i + 1),
        category: "Network activity",
        type: "url",
        value: `https://example.org/${"p".repeat(200)}/${i}`,
        timestamp: "1700000000",
      })),
    },
  });
  const card: Card = {
    title: "Awaiting approval: gate",
    fields: [],
    blocks: [publicationChangesBlock(changes, { values: true })],
    buttons: [],
  };

  await t.step("counts and the first values, in whole lines", () => {
    const text = card.blocks[0]!.text;
    assert.ok(text.length <= MAX_CHANGES_BLOCK_CHARS, `${text.length} characters`);
    assert.match(text, /^What this publication sends out:\nFirst publication/);
    assert.match(text, /\+10000 attributes added \(first 10 shown\)/);
    assert.match(text, /\+ Network activity\/url https:\/\/example\.org\/p+…/);
  });

  await t.step("Slack keeps it in one code section, Telegram in one <pre>", () => {
    const slack = slackMessage(card);
    const section = JSON.stringify(slack.blocks.at(-1));
    assert.match(section, /```What this publication sends out:/);
    assert.ok(section.endsWith('```"}}'), "Slack did not cut the block");
    const telegram = telegramMessage(card).text;
    assert.ok(telegram.length <= 4_096);
    assert.match(telegram, /<pre>What this publication sends out:[^]*<\/pre>$/);
    assert.match(telegram, /\+1 tag added/);
  });

  await t.step("a chat not cleared for the event's TLP gets counts only", () => {
    const text = publicationChangesBlock(changes, { values: false }).text;
    assert.match(text, /\+10000 attributes added\n/);
    assert.ok(!text.includes("example.org"));
    assert.ok(!text.includes("tlp:green"));
    assert.match(text, /values withheld/);
  });
});
