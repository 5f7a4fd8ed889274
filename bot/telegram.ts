/**
 * The Telegram bot: grammY behind `POST /telegram` with `webhookCallback(bot, "hono", {
 * secretToken })`, or polling `getUpdates` (`telegram_polling.ts`) with the same handlers. Commands (`/list`, `/disable wf for 2h`…), inline keyboards whose callback
 * queries are answered and whose cards are edited after the decision, and `update_id`s claimed
 * once so a redelivered update does nothing.
 *
 * Telegram redelivers an update answered with a 5xx, so once an update is claimed every failure
 * of its handling (a reply Telegram refuses, Telegram unreachable, an update without `from` or
 * `chat`) is logged and answered with 200. A body that is not an update gets a 400.
 *
 * @module
 */

import {
  Bot,
  type BotConfig,
  type BotError,
  type Context,
  GrammyError,
  HttpError,
  webhookCallback,
} from "grammy";
import type { Context as HonoContext } from "hono";
import { log } from "../engine/log.ts";
import { TELEGRAM_SECRET_PATTERN, type TelegramMode } from "../services/config.ts";
import { claimChatDelivery } from "../store/chat_deliveries.ts";
import { pressButton } from "./buttons.ts";
import { type Card, truncateText } from "./cards.ts";
import { runCommand } from "./commands.ts";
import type { ChatCore, ChatIdentity, ChatSender, RetryPauses } from "./core.ts";
import { createTelegramPolling, type TelegramPolling } from "./telegram_polling.ts";
import { parseCallbackData, telegramMessage } from "./telegram_render.ts";

/** Longest callback query answer Telegram shows. */
const MAX_CALLBACK_ANSWER = 200;
/** How long an update may run before Telegram is answered 200 anyway (the work goes on). */
export const TELEGRAM_ANSWER_TIMEOUT_MS = 10_000;
/** Longest Bot API call (a long poll holds for 30 s of it). */
const TELEGRAM_CALL_TIMEOUT_S = 60;
/** The header Telegram sends the webhook's secret token in. */
const SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token";

/** The bot's own user, as `getMe` returns it; given, grammY never calls `getMe`. */
export type TelegramBotInfo = NonNullable<BotConfig<Context>["botInfo"]>;

/**
 * How updates reach the bot: Telegram calls the webhook, whose `secretToken` is checked against
 * `X-Telegram-Bot-Api-Secret-Token` on every update; or the bot polls `getUpdates` (`retryMs`:
 * pauses between restarts, shortened in tests).
 */
export type TelegramTransport =
  | { mode: "webhook"; secretToken: string }
  | { mode: "polling"; retryMs?: RetryPauses };

/** Options of `createTelegramBot`. */
export interface TelegramBotOptions {
  botToken: string;
  transport: TelegramTransport;
  /** Bot API root (`TELEGRAM_API_ROOT`), for a local fake in tests. */
  apiRoot?: string;
  botInfo?: TelegramBotInfo;
  /** Milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
}

/** A Telegram bot: its transport and the sender announcements use. */
export interface TelegramBot {
  mode: TelegramMode;
  /** Handles one webhook request, 401 without the right secret token (`null` when polling). */
  handle: ((c: HonoContext) => Promise<Response>) | null;
  /** The long-polling loop (`polling` mode; `null` for the webhook), started by the chat. */
  polling: TelegramPolling | null;
  sender: ChatSender;
  bot: Bot;
}

/** Builds the Telegram bot and registers its sender with the chat core. */
export function createTelegramBot(core: ChatCore, options: TelegramBotOptions): TelegramBot {
  const { transport } = options;
  if (transport.mode === "webhook" && !TELEGRAM_SECRET_PATTERN.test(transport.secretToken)) {
    throw new RangeError(
      "Cannot start the Telegram bot: TELEGRAM_SECRET_TOKEN must be 1 to 256 of A-Z a-z 0-9 _ -",
    );
  }
  const now = options.now ?? Date.now;
  const bot = new Bot(options.botToken, {
    ...(options.botInfo ? { botInfo: options.botInfo } : {}),
    client: {
      ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}),
      fetch: nativeFetch as never,
      timeoutSeconds: TELEGRAM_CALL_TIMEOUT_S,
    },
  });
  const botId = options.botToken.split(":")[0] ?? "";
  // Long polling sends a failed update here (the webhook answers it instead); logged, polling
  // goes on. grammY's default would stop the bot.
  bot.catch(logUpdateError);

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

  // Past the claim, a failure is logged and the update answered 200: a 5xx would only bring a
  // redelivery the claim then ignores.
  const guarded = bot.errorBoundary(logUpdateError);

  guarded.on("message:text", async (ctx) => {
    // Telegram leaves `from` out of some messages (sent on behalf of a channel or chat).
    if (!ctx.message.from || !ctx.message.chat) return;
    const match = /^\/([A-Za-z0-9_]+)(?:@(\S+))?(?:\s+([\s\S]*))?$/.exec(ctx.message.text);
    if (!match) return;
    if (match[2] && match[2].toLowerCase() !== ctx.me.username.toLowerCase()) return;
    const name = match[1]!.toLowerCase() === "start" ? "help" : match[1]!;
    const identity: ChatIdentity = {
      platform: "telegram",
      userId: String(ctx.message.from.id),
      chatId: String(ctx.message.chat.id),
      direct: ctx.message.chat.type === "private",
    };
    const card = await runCommand(core, identity, `${name} ${match[3] ?? ""}`);
    const message = telegramMessage(card);
    await ctx.reply(message.text, {
      "parse_mode": "HTML",
      ...(message.reply_markup ? { "reply_markup": message.reply_markup } : {}),
      "reply_parameters": { "message_id": ctx.message.message_id },
    });
  });

  guarded.on("callback_query:data", async (ctx) => {
    const parsed = parseCallbackData(ctx.callbackQuery.data);
    const chat = ctx.callbackQuery.message?.chat;
    const from = ctx.callbackQuery.from;
    if (!from) return;
    if (!parsed || !chat) {
      await ctx.answerCallbackQuery({ text: "This button is not Flowgate's" });
      return;
    }
    const identity: ChatIdentity = {
      platform: "telegram",
      userId: String(from.id),
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

  if (transport.mode === "polling") {
    const polling = createTelegramPolling(bot, {
      ...(transport.retryMs ? { retryMs: transport.retryMs } : {}),
    });
    return { mode: "polling", bot, sender, polling, handle: null };
  }
  const secretToken = transport.secretToken;
  const callback = webhookCallback(bot, "hono", {
    secretToken,
    timeoutMilliseconds: TELEGRAM_ANSWER_TIMEOUT_MS,
    onTimeout: () => {
      log.warn("Telegram update still running: answered 200, the work goes on", {
        timeout_ms: TELEGRAM_ANSWER_TIMEOUT_MS,
      });
    },
  });
  const handle = async (c: HonoContext): Promise<Response> => {
    // grammY answers a wrong or missing secret token with 401; only a caller holding the secret
    // learns whether its body is an update.
    if (sameSecret(c.req.header(SECRET_HEADER), secretToken)) {
      const problem = await updateProblem(c);
      if (problem !== undefined) return c.json({ error: problem }, 400);
    }
    return await (callback(c) as Promise<Response>);
  };
  return { mode: "webhook", bot, sender, polling: null, handle };
}

/** What grammY's client passes to `fetch`: node-fetch options, an abort signal polyfill. */
interface GrammyFetchInit {
  method?: string;
  headers?: HeadersInit;
  body?: unknown;
  signal?: { aborted: boolean; addEventListener(type: "abort", listener: () => void): void };
}

/**
 * The Bot API client's `fetch`: Deno's own, so that stopping long polling cancels the pending
 * `getUpdates` at once. With grammY's default (node-fetch) the aborted request's connection
 * stays open until Telegram answers, up to the 30 s of the poll, and holds the process on
 * shutdown. grammY's abort signal (a polyfill) is relayed to a native one; its node-fetch options
 * (agent, compress) have no use here.
 */
function nativeFetch(url: string, init: GrammyFetchInit): Promise<Response> {
  if (init.body !== undefined && typeof init.body !== "string") {
    // Only file uploads send a stream; Flowgate sends text.
    throw new TypeError("Flowgate's Telegram client sends JSON bodies only, not file uploads");
  }
  const controller = new AbortController();
  const relay = () => controller.abort();
  if (init.signal?.aborted) relay();
  else init.signal?.addEventListener("abort", relay);
  return fetch(url, {
    ...(init.method ? { method: init.method } : {}),
    ...(init.headers ? { headers: init.headers } : {}),
    ...(init.body === undefined ? {} : { body: init.body }),
    signal: controller.signal,
  });
}

/** Logs an update whose handling failed, saying where: Telegram refused, unreachable, or ours. */
function logUpdateError(error: BotError): void {
  const cause = error.error;
  const fields = { "update_id": error.ctx.update.update_id };
  if (cause instanceof GrammyError) {
    log.error("Telegram refused a call while handling an update", {
      ...fields,
      method: cause.method,
      "error_code": cause.error_code,
      description: cause.description,
    });
  } else if (cause instanceof HttpError) {
    log.error("Telegram could not be reached while handling an update", {
      ...fields,
      error: cause.message,
    });
  } else {
    log.error("Telegram update failed", {
      ...fields,
      error: cause instanceof Error ? (cause.stack ?? cause.message) : String(cause),
    });
  }
}

/** Compares the secret token without returning early on the first differing character. */
function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined || given.length !== expected.length) return false;
  let difference = 0;
  for (let index = 0; index < expected.length; index++) {
    difference |= given.charCodeAt(index) ^ expected.charCodeAt(index);
  }
  return difference === 0;
}

/** Why the request body is not a Telegram update, or undefined when it is one. */
async function updateProblem(c: HonoContext): Promise<string | undefined> {
  let update: unknown;
  try {
    // Hono caches the parsed body: grammY's adapter reads this same value afterwards.
    update = await c.req.json();
  } catch (error) {
    return `Telegram update is not JSON: ${(error as Error).message}`;
  }
  const isObject = typeof update === "object" && update !== null && !Array.isArray(update);
  if (!isObject || !Number.isSafeInteger((update as { update_id?: unknown }).update_id)) {
    return 'Telegram update must be a JSON object with an integer "update_id"';
  }
  return undefined;
}
