/**
 * The chat bots as webhook routes (`POST /slack/events`, `POST /telegram`) the HTTP app mounts,
 * plus the announcer of blocked runs `main.ts` subscribes to the context's announcements.
 * Unconfigured platforms answer 404 and say so.
 *
 * @module
 */

import { log } from "../engine/log.ts";
import type { RunRecord } from "../store/types.ts";
import { constantTimeEquals } from "../services/constant_time.ts";
import type { WebhookRoute } from "../services/webhook_route.ts";
import { announceBlockedRun } from "./announce.ts";
import { watchApprovals } from "./approvals.ts";
import type { ChatContext, ChatCore } from "./core.ts";
import { createSlackBot, SLACK_MAX_SKEW_S, type SlackBot, type SlackBotOptions } from "./slack.ts";
import { createTelegramBot, type TelegramBot, type TelegramBotInfo } from "./telegram.ts";

/** What tests (or a deployment that knows them) pass besides the configuration. */
export interface ChatOptions {
  slack?: Pick<SlackBotOptions, "botId" | "botUserId" | "retries">;
  telegram?: { botInfo?: TelegramBotInfo };
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
}

/** Builds the configured bots and their webhooks. */
export function createChat(ctx: ChatContext, options: ChatOptions = {}): Chat {
  const core: ChatCore = { ctx, senders: new Map(), watchedApprovals: new WeakSet() };
  watchApprovals(core);
  const slackConfig = ctx.config.slack;
  const slack = slackConfig
    ? createSlackBot(core, {
      botToken: slackConfig.botToken,
      signingSecret: slackConfig.signingSecret,
      ...(slackConfig.apiUrl ? { apiUrl: slackConfig.apiUrl } : {}),
      ...options.slack,
      now: ctx.now,
    })
    : null;
  const telegramConfig = ctx.config.telegram;
  let telegram: TelegramBot | null = null;
  if (telegramConfig && !telegramConfig.secretToken) {
    log.warn("Telegram bot off: TELEGRAM_SECRET_TOKEN is required to check webhook calls");
  } else if (telegramConfig?.secretToken) {
    telegram = createTelegramBot(core, {
      botToken: telegramConfig.botToken,
      secretToken: telegramConfig.secretToken,
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
        const refusal = slackHeadersRefusal(headers, ctx.now());
        return refusal === undefined ? null : { status: 401, error: refusal };
      },
      handle: (c) => slack!.handle(c.req.raw),
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
        const presented = headers.get(TELEGRAM_SECRET_HEADER);
        const expected = telegramConfig?.secretToken ?? "";
        if (presented === null || !(await constantTimeEquals(presented, expected))) {
          return { status: 401, error: `Missing or wrong ${TELEGRAM_SECRET_HEADER} header` };
        }
        return null;
      },
      handle: (c) => telegram!.handle(c),
    },
  ];
  return {
    webhooks,
    core,
    slack,
    telegram,
    announceBlockedRun: (run) => announceBlockedRun(core, run),
  };
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
