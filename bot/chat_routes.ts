/**
 * The chat bots: as webhook routes (`POST /slack/events`, `POST /telegram`) the HTTP app mounts,
 * or as connections Flowgate opens itself (Slack Socket Mode, Telegram long polling) that
 * `main.ts` starts and stops; plus the announcer of blocked runs `main.ts` subscribes to the
 * context's announcements. A route whose platform is not configured for it answers 404 and says
 * so.
 *
 * @module
 */

import { log } from "../engine/log.ts";
import type { RunRecord } from "../store/types.ts";
import { constantTimeEquals } from "../services/constant_time.ts";
import type { WebhookRoute } from "../services/webhook_route.ts";
import { announceBlockedRun } from "./announce.ts";
import { watchApprovals } from "./approvals.ts";
import type { ChatContext, ChatCore, RetryPauses } from "./core.ts";
import { createSlackBot, SLACK_MAX_SKEW_S, type SlackBot, type SlackBotOptions } from "./slack.ts";
import { createTelegramBot, type TelegramBot, type TelegramBotInfo } from "./telegram.ts";

/**
 * What tests (or a deployment that knows them) pass besides the configuration; `retryMs`
 * shortens the pauses between reconnections.
 */
export interface ChatOptions {
  slack?: Pick<SlackBotOptions, "botId" | "botUserId" | "retries"> & { retryMs?: RetryPauses };
  telegram?: { botInfo?: TelegramBotInfo; retryMs?: RetryPauses };
}

/** The chat bots: the webhooks to mount, the core they share, and the announcer. */
export interface Chat {
  /**
   * `POST /slack/events` and `POST /telegram`. Each checks its platform's credentials from the
   * headers (`preflight`) before the HTTP app reads a byte of the body within the chat cap.
   */
  webhooks: WebhookRoute[];
  core: ChatCore;
  slack: SlackBot | null;
  telegram: TelegramBot | null;
  /** Posts the card of a blocked run to the subscribed chats, without waiting (errors logged). */
  announceBlockedRun(run: RunRecord): void;
  /** Opens the connections of Socket Mode and long polling (webhooks need nothing). */
  start(): void;
  /** Closes them; resolves once no connection is left open. */
  stop(): Promise<void>;
}

/** Builds the configured bots and their webhooks. */
export function createChat(ctx: ChatContext, options: ChatOptions = {}): Chat {
  const core: ChatCore = { ctx, senders: new Map(), watchedApprovals: new WeakSet() };
  watchApprovals(core);
  const slack = createSlack(core, ctx, options.slack ?? {});
  const telegramConfig = ctx.config.telegram;
  let telegram: TelegramBot | null = null;
  if (telegramConfig?.mode === "webhook" && !telegramConfig.secretToken) {
    log.warn(
      "Telegram bot off: TELEGRAM_SECRET_TOKEN is required to check webhook calls " +
        "(or set FLOWGATE_TELEGRAM_MODE=polling)",
    );
  } else if (telegramConfig) {
    telegram = createTelegramBot(core, {
      botToken: telegramConfig.botToken,
      transport: telegramConfig.mode === "polling"
        ? {
          mode: "polling",
          ...(options.telegram?.retryMs ? { retryMs: options.telegram.retryMs } : {}),
        }
        : { mode: "webhook", secretToken: telegramConfig.secretToken! },
      ...(telegramConfig.apiRoot ? { apiRoot: telegramConfig.apiRoot } : {}),
      ...(options.telegram?.botInfo ? { botInfo: options.telegram.botInfo } : {}),
      now: ctx.now,
    });
  }

  // `handle` is only called once `preflight` passed, so with the bot on.
  const webhooks: WebhookRoute[] = [
    {
      path: "/slack/events",
      preflight(headers) {
        if (!slack) return { status: 404, error: "Slack is not configured (SLACK_BOT_TOKEN)" };
        if (!slack.handle) {
          return { status: 404, error: "Slack uses Socket Mode here (FLOWGATE_SLACK_MODE=socket)" };
        }
        const refusal = slackHeadersRefusal(headers, ctx.now());
        return refusal === undefined ? null : { status: 401, error: refusal };
      },
      handle: (c) => slack!.handle!(c.req.raw),
    },
    {
      path: "/telegram",
      async preflight(headers) {
        if (!telegram) {
          return {
            status: 404,
            error: "Telegram is not configured (TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET_TOKEN)",
          };
        }
        if (!telegram.handle) {
          return {
            status: 404,
            error: "Telegram uses long polling here (FLOWGATE_TELEGRAM_MODE=polling)",
          };
        }
        const presented = headers.get(TELEGRAM_SECRET_HEADER);
        const expected = telegramConfig?.secretToken ?? "";
        if (presented === null || !(await constantTimeEquals(presented, expected))) {
          return { status: 401, error: `Missing or wrong ${TELEGRAM_SECRET_HEADER} header` };
        }
        return null;
      },
      handle: (c) => telegram!.handle!(c),
    },
  ];
  core.connectionStates = () => ({
    ...(slack?.socket ? { slack: slack.socket.state() } : {}),
    ...(telegram?.polling ? { telegram: telegram.polling.state() } : {}),
  });
  return {
    webhooks,
    core,
    slack,
    telegram,
    announceBlockedRun: (run) => announceBlockedRun(core, run),
    start() {
      slack?.socket?.start();
      telegram?.polling?.start();
    },
    async stop() {
      await Promise.all([slack?.socket?.stop(), telegram?.polling?.stop()]);
    },
  };
}

/** The Slack bot on the configured transport, or null when Slack is not configured. */
function createSlack(
  core: ChatCore,
  ctx: ChatContext,
  options: NonNullable<ChatOptions["slack"]>,
): SlackBot | null {
  const config = ctx.config.slack;
  if (!config) return null;
  const { retryMs, ...botOptions } = options;
  return createSlackBot(core, {
    botToken: config.botToken,
    // The configuration guarantees the secret or token of the mode it chose.
    transport: config.mode === "socket"
      ? { mode: "socket", appToken: config.appToken!, ...(retryMs ? { retryMs } : {}) }
      : { mode: "http", signingSecret: config.signingSecret! },
    ...(config.apiUrl ? { apiUrl: config.apiUrl } : {}),
    ...botOptions,
    now: ctx.now,
  });
}

/** The header Telegram sends the webhook's secret token in. */
const TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token";

/**
 * Why a Slack request is refused from its headers alone (no signature, or a timestamp missing,
 * stale or in the future), or undefined; the signature itself is checked once the body is read.
 */
export function slackHeadersRefusal(headers: Headers, nowMs: number): string | undefined {
  if (!headers.get("x-slack-signature")) return "Slack request signature invalid";
  const timestamp = Number(headers.get("x-slack-request-timestamp"));
  if (!Number.isInteger(timestamp) || Math.abs(nowMs / 1_000 - timestamp) > SLACK_MAX_SKEW_S) {
    return "Slack request timestamp missing, stale or in the future";
  }
  return undefined;
}
