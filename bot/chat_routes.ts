/**
 * The chat bots as one Hono sub-app (`POST /slack/events`, `POST /telegram`) plus the announcer
 * the verdict path calls after a block. Unconfigured platforms answer 404 and say so.
 *
 * @module
 */

import { Hono } from "hono";
import { log } from "../engine/log.ts";
import type { RunRecord } from "../store/types.ts";
import { constantTimeEquals } from "../server/auth.ts";
import { boundRequestBody } from "../server/body_guard.ts";
import { bodyLimitsOf } from "../server/body_limits.ts";
import type { AppContext, AppEnv } from "../services/context.ts";
import { announceBlockedRun } from "./announce.ts";
import { watchApprovals } from "./approvals.ts";
import type { ChatCore } from "./core.ts";
import { createSlackBot, SLACK_MAX_SKEW_S, type SlackBot, type SlackBotOptions } from "./slack.ts";
import { createTelegramBot, type TelegramBot, type TelegramBotInfo } from "./telegram.ts";

/** What tests (or a deployment that knows them) pass besides the configuration. */
export interface ChatOptions {
  slack?: Pick<SlackBotOptions, "botId" | "botUserId" | "retries">;
  telegram?: { botInfo?: TelegramBotInfo };
}

/** The chat bots: routes to mount, the core they share, and the announcer. */
export interface Chat {
  routes: Hono<AppEnv>;
  core: ChatCore;
  slack: SlackBot | null;
  telegram: TelegramBot | null;
  /** Posts the card of a blocked run to the subscribed chats, without waiting (errors logged). */
  announceBlockedRun(run: RunRecord): void;
}

/** Builds the configured bots and their routes. */
export function createChat(ctx: AppContext, options: ChatOptions = {}): Chat {
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

  // Each platform's credentials are checked from the headers before a byte of the body is read;
  // the body is then read within the chat cap and timeouts and handed over as bytes.
  const limits = bodyLimitsOf(ctx.config).chat;
  const routes = new Hono<AppEnv>();
  routes.post("/slack/events", async (c) => {
    if (!slack) return c.json({ error: "Slack is not configured (SLACK_BOT_TOKEN)" }, 404);
    const refusal = slackHeadersRefusal(c.req.raw.headers, ctx.now());
    if (refusal !== undefined) return c.json({ error: refusal }, 401);
    await boundRequestBody(c, limits);
    return slack.handle(c.req.raw);
  });
  routes.post("/telegram", async (c) => {
    if (!telegram) {
      return c.json({
        error: "Telegram is not configured (TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET_TOKEN)",
      }, 404);
    }
    const presented = c.req.header(TELEGRAM_SECRET_HEADER);
    const expected = telegramConfig?.secretToken ?? "";
    if (presented === undefined || !(await constantTimeEquals(presented, expected))) {
      return c.json({ error: `Missing or wrong ${TELEGRAM_SECRET_HEADER} header` }, 401);
    }
    await boundRequestBody(c, limits);
    return telegram.handle(c);
  });
  return {
    routes,
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

/** The chat routes alone, for mounting where the announcer is not needed. */
export function createChatRoutes(ctx: AppContext, options: ChatOptions = {}): Hono<AppEnv> {
  return createChat(ctx, options).routes;
}
