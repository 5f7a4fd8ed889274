/**
 * The chat bots as one Hono sub-app (`POST /slack/events`, `POST /telegram`) plus the announcer
 * the verdict path calls after a block. Unconfigured platforms answer 404 and say so.
 *
 * @module
 */

import { Hono } from "hono";
import { log } from "../engine/log.ts";
import type { RunRecord } from "../store/types.ts";
import type { AppEnv, ServerContext } from "../server/deps.ts";
import { announceBlockedRun } from "./announce.ts";
import { watchApprovals } from "./approvals.ts";
import type { ChatCore } from "./core.ts";
import { createSlackBot, type SlackBot, type SlackBotOptions } from "./slack.ts";
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
export function createChat(ctx: ServerContext, options: ChatOptions = {}): Chat {
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

  const routes = new Hono<AppEnv>();
  routes.post("/slack/events", (c) => {
    if (!slack) return c.json({ error: "Slack is not configured (SLACK_BOT_TOKEN)" }, 404);
    return slack.handle(c.req.raw);
  });
  routes.post("/telegram", (c) => {
    if (!telegram) {
      return c.json({
        error: "Telegram is not configured (TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET_TOKEN)",
      }, 404);
    }
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

/** The chat routes alone, for mounting where the announcer is not needed. */
export function createChatRoutes(ctx: ServerContext, options: ChatOptions = {}): Hono<AppEnv> {
  return createChat(ctx, options).routes;
}
