/**
 * Cards as Slack messages: Block Kit blocks (header, fields, mrkdwn text, code, buttons) plus the
 * plain-text fallback, escaped for mrkdwn and with registered secrets redacted.
 *
 * @module
 */

import { redactSecrets } from "../engine/log.ts";
import { type Card, cardToPlainText, truncateText } from "./cards.ts";

/** Prefix of the `action_id` of every Flowgate button: `flowgate_replay`. */
export const SLACK_ACTION_PREFIX = "flowgate_";
/** Slack's limits: header text, section text, field text, fields per section. */
const MAX_HEADER = 150;
const MAX_SECTION = 3_000;
const MAX_FIELD = 2_000;
const MAX_FIELDS = 10;
const MAX_FALLBACK = 3_000;

/** A Slack message body (`chat.postMessage`, `chat.update`, `respond`). */
export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

/** Escapes text for Slack mrkdwn (`&`, `<`, `>`), after redacting secrets. */
export function escapeSlack(text: string): string {
  return redactSecrets(text).replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(
    ">",
    "&gt;",
  );
}

/** Renders a card as Block Kit blocks and a fallback text. */
export function slackMessage(card: Card): SlackMessage {
  const blocks: Record<string, unknown>[] = [];
  if (card.title) {
    blocks.push({
      type: "header",
      text: { type: "plain_text", text: truncateText(redactSecrets(card.title), MAX_HEADER) },
    });
  }
  for (let i = 0; i < card.fields.length; i += MAX_FIELDS) {
    blocks.push({
      type: "section",
      fields: card.fields.slice(i, i + MAX_FIELDS).map((field) => ({
        type: "mrkdwn",
        text: truncateText(`*${escapeSlack(field.label)}*\n${escapeSlack(field.value)}`, MAX_FIELD),
      })),
    });
  }
  for (const block of card.blocks) {
    const text = block.kind === "code"
      ? "```" + truncateText(escapeSlack(block.text), MAX_SECTION - 6) + "```"
      : truncateText(escapeSlack(block.text), MAX_SECTION);
    blocks.push({ type: "section", text: { type: "mrkdwn", text } });
  }
  if (card.buttons.length > 0) {
    blocks.push({
      type: "actions",
      "block_id": "flowgate_actions",
      elements: card.buttons.map((button) => ({
        type: "button",
        text: { type: "plain_text", text: button.label },
        "action_id": `${SLACK_ACTION_PREFIX}${button.action}`,
        value: button.value,
        ...(button.style ? { style: button.style } : {}),
      })),
    });
  }
  return {
    text: truncateText(redactSecrets(cardToPlainText(card)), MAX_FALLBACK),
    blocks,
  };
}
