/**
 * Cards as Telegram messages: HTML text (bold labels, `<pre>` for traces) and an inline keyboard
 * whose callback data names the action and the run, escaped and with secrets redacted.
 *
 * @module
 */

import { redactSecrets } from "../engine/log.ts";
import { type Card, CARD_ACTIONS, type CardAction, truncateText } from "./cards.ts";

/** Prefix of Flowgate's callback data: `fg:replay:<run id>` (Telegram allows 64 bytes). */
export const TELEGRAM_CALLBACK_PREFIX = "fg";
/** Telegram's message limit, in characters. */
const MAX_MESSAGE = 4_096;
/** Budgets per part, so the whole message stays under the limit. */
const MAX_FIELD = 300;
const MAX_TEXT = 1_000;
const MAX_CODE = 2_400;

/** An inline keyboard as the Bot API takes it. */
export interface InlineKeyboard {
  "inline_keyboard": { text: string; "callback_data": string }[][];
}

/** A Telegram message body for `sendMessage` / `editMessageText`. */
export interface TelegramMessage {
  text: string;
  "reply_markup"?: InlineKeyboard;
}

/** Escapes text for Telegram's HTML parse mode, after redacting secrets. */
export function escapeTelegram(text: string): string {
  return redactSecrets(text).replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(
    ">",
    "&gt;",
  );
}

/** Renders a card as HTML text and an inline keyboard. */
export function telegramMessage(card: Card): TelegramMessage {
  const parts: string[] = [];
  if (card.title) parts.push(`<b>${escapeTelegram(truncateText(card.title, MAX_FIELD))}</b>`);
  for (const field of card.fields) {
    parts.push(
      `<b>${escapeTelegram(field.label)}:</b> ${
        escapeTelegram(truncateText(field.value, MAX_FIELD))
      }`,
    );
  }
  for (const block of card.blocks) {
    parts.push(
      block.kind === "code"
        ? `<pre>${escapeTelegram(truncateText(block.text, MAX_CODE))}</pre>`
        : escapeTelegram(truncateText(block.text, MAX_TEXT)),
    );
  }
  let text = parts.join("\n");
  // Parts are budgeted; if a card still overflows, drop whole parts rather than cut a tag.
  while (text.length > MAX_MESSAGE && parts.length > 1) {
    parts.pop();
    text = `${parts.join("\n")}\n…`;
  }
  if (card.buttons.length === 0) return { text };
  return {
    text,
    "reply_markup": {
      "inline_keyboard": [card.buttons.map((button) => ({
        text: button.label,
        "callback_data": `${TELEGRAM_CALLBACK_PREFIX}:${button.action}:${button.value}`,
      }))],
    },
  };
}

/** Reads Flowgate callback data back: the action and the value; null when it is not ours. */
export function parseCallbackData(data: string): { action: CardAction; value: string } | null {
  const match = /^fg:([a-z]+):(.+)$/.exec(data);
  if (!match || !(CARD_ACTIONS as readonly string[]).includes(match[1]!)) return null;
  return { action: match[1] as CardAction, value: match[2]! };
}
