/**
 * The Telegram bot: grammY behind `POST /telegram` with `webhookCallback(bot, "hono", {
 * secretToken })`. Commands (`/list`, `/disable wf for 2h`…), inline keyboards whose callback
 * queries are answered and whose cards are edited after the decision, and `update_id`s claimed
 * once so a redelivered update does nothing.
 *
 * @module
 */

import { Bot, type BotConfig, type Context, webhookCallback } from "grammy";
import type { Context as HonoContext } from "hono";
import { log } from "../engine/log.ts";
import { claimChatDelivery } from "../store/chat_deliveries.ts";
import { pressButton } from "./buttons.ts";
import { type Card, truncateText } from "./cards.ts";
import { runCommand } from "./commands.ts";
import type { ChatCore, ChatIdentity, ChatSender } from "./core.ts";
import { parseCallbackData, telegramMessage } from "./telegram_render.ts";

/** Longest callback query answer Telegram shows. */
const MAX_CALLBACK_ANSWER = 200;
/** A valid `secret_token` for `setWebhook`: 1 to 256 of `A-Z a-z 0-9 _ -`. */
export const TELEGRAM_SECRET_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

/** The bot's own user, as `getMe` returns it; given, grammY never calls `getMe`. */
export type TelegramBotInfo = NonNullable<BotConfig<Context>["botInfo"]>;

/** Options of `createTelegramBot`. */
export interface TelegramBotOptions {
  botToken: string;
  /** Checked against `X-Telegram-Bot-Api-Secret-Token` on every update. */
  secretToken: string;
  /** Bot API root (`TELEGRAM_API_ROOT`), for a local fake in tests. */
  apiRoot?: string;
  botInfo?: TelegramBotInfo;
  /** Milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
}

/** A Telegram bot: the webhook handler to mount and the sender announcements use. */
export interface TelegramBot {
  /** Handles one webhook request (401 without the right secret token). */
  handle(c: HonoContext): Promise<Response>;
  sender: ChatSender;
  bot: Bot;
}

/** Builds the Telegram bot and registers its sender with the chat core. */
export function createTelegramBot(core: ChatCore, options: TelegramBotOptions): TelegramBot {
  if (!TELEGRAM_SECRET_PATTERN.test(options.secretToken)) {
    throw new RangeError(
      "Cannot start the Telegram bot: TELEGRAM_SECRET_TOKEN must be 1 to 256 of A-Z a-z 0-9 _ -",
    );
  }
  const now = options.now ?? Date.now;
  const bot = new Bot(options.botToken, {
    ...(options.botInfo ? { botInfo: options.botInfo } : {}),
    ...(options.apiRoot ? { client: { apiRoot: options.apiRoot } } : {}),
  });
  const botId = options.botToken.split(":")[0] ?? "";

  bot.use(async (ctx, next) => {
    const first = await claimChatDelivery(
      core.ctx.kv,
      "telegram",
      `${botId}:${ctx.update.update_id}`,
      {
        now: now(),
      },
    );
    if (first) await next();
  });

  bot.on("message:text", async (ctx) => {
    const match = /^\/([A-Za-z0-9_]+)(?:@(\S+))?(?:\s+([\s\S]*))?$/.exec(ctx.message.text);
    if (!match) return;
    if (match[2] && match[2].toLowerCase() !== ctx.me.username.toLowerCase()) return;
    const name = match[1]!.toLowerCase() === "start" ? "help" : match[1]!;
    const identity: ChatIdentity = {
      platform: "telegram",
      userId: String(ctx.from.id),
      chatId: String(ctx.chat.id),
      direct: ctx.chat.type === "private",
    };
    const card = await runCommand(core, identity, `${name} ${match[3] ?? ""}`);
    const message = telegramMessage(card);
    await ctx.reply(message.text, {
      "parse_mode": "HTML",
      ...(message.reply_markup ? { "reply_markup": message.reply_markup } : {}),
      "reply_parameters": { "message_id": ctx.message.message_id },
    });
  });

  bot.on("callback_query:data", async (ctx) => {
    const parsed = parseCallbackData(ctx.callbackQuery.data);
    const chat = ctx.callbackQuery.message?.chat;
    if (!parsed || !chat) {
      await ctx.answerCallbackQuery({ text: "This button is not Flowgate's" });
      return;
    }
    const identity: ChatIdentity = {
      platform: "telegram",
      userId: String(ctx.from.id),
      chatId: String(chat.id),
      direct: chat.type === "private",
    };
    const outcome = await pressButton(core, identity, {
      action: parsed.action,
      runId: parsed.value,
    });
    await ctx.answerCallbackQuery({ text: truncateText(outcome.notice, MAX_CALLBACK_ANSWER) });
    if (outcome.reply) {
      const message = telegramMessage(outcome.reply);
      await ctx.reply(message.text, {
        "parse_mode": "HTML",
        ...(ctx.callbackQuery.message
          ? { "reply_parameters": { "message_id": ctx.callbackQuery.message.message_id } }
          : {}),
      });
    }
  });

  bot.catch((error) => {
    log.error("Telegram update failed", {
      update_id: error.ctx.update.update_id,
      error: error.error instanceof Error ? error.error.message : String(error.error),
    });
  });

  const sender: ChatSender = {
    platform: "telegram",
    async postCard(chatId: string, card: Card): Promise<string> {
      const message = telegramMessage(card);
      const sent = await bot.api.sendMessage(chatId, message.text, {
        "parse_mode": "HTML",
        ...(message.reply_markup ? { "reply_markup": message.reply_markup } : {}),
      });
      return String(sent.message_id);
    },
    async editCard(chatId: string, messageId: string, card: Card): Promise<void> {
      const message = telegramMessage(card);
      // Without reply_markup Telegram removes the keyboard: what a decided card needs.
      await bot.api.editMessageText(chatId, Number(messageId), message.text, {
        "parse_mode": "HTML",
        ...(message.reply_markup ? { "reply_markup": message.reply_markup } : {}),
      });
    },
  };
  core.senders.set("telegram", sender);

  const handle = webhookCallback(bot, "hono", { secretToken: options.secretToken });
  return { bot, sender, handle: (c) => handle(c) as Promise<Response> };
}
