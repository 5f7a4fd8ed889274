/**
 * A Flowgate app with both chat bots on their local fakes: the fake Slack Web API and the fake
 * Telegram Bot API record every call, requests are signed as Slack signs them, and updates carry
 * Telegram's secret token header.
 *
 * @module
 */

import type { Chat } from "../../bot/chat_routes.ts";
import {
  bootstrapChatAdmins,
  type ChatVenue,
  putChatRole,
  putChatVenue,
} from "../../store/chat_roles.ts";
import { createWorkflow } from "../../store/workflows.ts";
import { node, workflowOf } from "../engine/fake_modules.ts";
import { type SlackApi, startSlackApi } from "../fakes/slack_api.ts";
import { startTelegramApi, type TelegramApi } from "../fakes/telegram_api.ts";
import { startTestApp, type TestApp } from "../server/test_app.ts";

/** The workflow the chat tests run: blocks the publication of tlp:red events. */
export const RED_GATE_YAML = `
name: red-gate
description: Block the publication of tlp:red events
trigger: event-publish
enabled: true
start: tlp-red
nodes:
  tlp-red:
    module: tag-if
    params:
      scope: event
      condition: in_or
      tags: [tlp:red]
    then: stop
  stop:
    module: stop-execution
    params:
      message: "Publication blocked: tlp:red"
`;

/** Slack's signing secret in tests. */
export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
/** Slack bot token the fake accepts. */
export const SLACK_TOKEN = "xoxb-test-token";
/** Telegram bot token the fake accepts (its id part is the bot id). */
export const TELEGRAM_TOKEN = "4242:TEST-telegram-token";
/** Telegram webhook secret token. */
export const TELEGRAM_SECRET = "flowgate-secret_token-0123";
/** The settings that point Flowgate's Slack and Telegram bots at the local fakes. */
export function chatEnv(
  slack: { url: string },
  telegram: { url: string },
): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: SLACK_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: `${slack.url}/api`,
    TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
    TELEGRAM_SECRET_TOKEN: TELEGRAM_SECRET,
    TELEGRAM_API_ROOT: telegram.url,
  };
}

/** The Slack channel and Telegram group used for commands and announcements. */
export const SLACK_CHANNEL = "C0SOC";
export const TELEGRAM_CHAT = "-1001234";
/** Users: an admin on each platform (from FLOWGATE_CHAT_ADMINS) and a responder on each. */
export const SLACK_ADMIN = "U0ADMIN";
export const SLACK_RESPONDER = "U0RESP";
export const TELEGRAM_ADMIN = "1001";
export const TELEGRAM_RESPONDER = "1002";

/** Stores the workflow `name` (default "gate"): event-publish straight to a stop; returns its id. */
export async function addGate(kv: Deno.Kv, name = "gate"): Promise<string> {
  const stored = await createWorkflow(
    kv,
    workflowOf("event-publish", [
      node("trigger", "event-publish", "trigger", [["stop"]]),
      node("stop", "stop-execution", "action", [], { message: "Publication blocked" }),
    ], name),
    { actor: "test", sourceFormat: "yaml" },
  );
  return stored.id;
}

/** The bot Flowgate's grammY bot takes itself for (no `getMe` call to the fake). */
export const TELEGRAM_BOT_INFO = {
  id: 4242,
  "is_bot": true,
  "first_name": "Flowgate",
  username: "flowgate_test_bot",
  "can_join_groups": true,
  "can_read_all_group_messages": false,
  "supports_inline_queries": false,
  "can_connect_to_business": false,
  "has_main_web_app": false,
  "has_topics_enabled": false,
  "allows_users_to_create_topics": false,
} as never;

/**
 * Registers the chats and users the constants name: the admins from FLOWGATE_CHAT_ADMINS, the SOC
 * channel and group (commands, announcements up to amber), a responder on each platform.
 */
export async function registerChatRooms(test: TestApp): Promise<void> {
  await bootstrapChatAdmins(test.kv, test.config.chatAdmins);
  const venue = (platform: "slack" | "telegram", chatId: string): ChatVenue => ({
    platform,
    "chat_id": chatId,
    commands: true,
    announce: true,
    "max_tlp": "amber",
    "updated_by": "test",
    "updated_at": new Date().toISOString(),
  });
  await putChatVenue(test.kv, venue("slack", SLACK_CHANNEL));
  await putChatVenue(test.kv, venue("telegram", TELEGRAM_CHAT));
  for (
    const [platform, user] of [["slack", SLACK_RESPONDER], [
      "telegram",
      TELEGRAM_RESPONDER,
    ]] as const
  ) {
    await putChatRole(test.kv, {
      platform,
      "user_id": user,
      role: "responder",
      "granted_by": "test",
      "granted_at": new Date().toISOString(),
    });
  }
}

/** The fields of a slash command `/flowgate <text>` as Slack sends them (form or Socket Mode). */
export function slashCommandFields(
  slack: SlackApi,
  text: string,
  options: { user?: string; channel?: string; triggerId: string },
): Record<string, string> {
  return {
    token: "deprecated",
    "team_id": "T0TEAM",
    "channel_id": options.channel ?? SLACK_CHANNEL,
    "channel_name": "soc",
    "user_id": options.user ?? SLACK_ADMIN,
    "user_name": "someone",
    command: "/flowgate",
    text,
    "api_app_id": "A0APP",
    "response_url": slack.responseUrl(options.triggerId),
    "trigger_id": options.triggerId,
  };
}

/** A `block_actions` payload: `user` pressed button `action` (value `value`) on card `messageTs`. */
export function blockActionPayload(
  slack: SlackApi,
  action: string,
  value: string,
  options: { user?: string; channel?: string; messageTs: string; triggerId: string },
): Record<string, unknown> {
  const channel = options.channel ?? SLACK_CHANNEL;
  return {
    type: "block_actions",
    team: { id: "T0TEAM", domain: "soc" },
    user: { id: options.user ?? SLACK_RESPONDER, username: "someone", "team_id": "T0TEAM" },
    "api_app_id": "A0APP",
    token: "deprecated",
    container: {
      type: "message",
      "message_ts": options.messageTs,
      "channel_id": channel,
      "is_ephemeral": false,
    },
    "trigger_id": options.triggerId,
    channel: { id: channel, name: "soc" },
    message: { type: "message", ts: options.messageTs, text: "card" },
    "response_url": slack.responseUrl(`action-${options.messageTs}`),
    actions: [{
      type: "button",
      "action_id": `flowgate_${action}`,
      "block_id": "flowgate_actions",
      text: { type: "plain_text", text: action },
      value,
      "action_ts": String(Date.now() / 1_000),
    }],
  };
}

/** An Events API `event_callback`: the admin writes `<@U0BOT> <text>` in the SOC channel at `ts`. */
export function appMentionEvent(text: string, ts: string): Record<string, unknown> {
  return {
    token: "deprecated",
    "team_id": "T0TEAM",
    "api_app_id": "A0APP",
    type: "event_callback",
    "event_id": "Ev0MENTION",
    "event_time": Math.floor(Date.now() / 1_000),
    event: {
      type: "app_mention",
      user: SLACK_ADMIN,
      text: `<@U0BOT> ${text}`,
      ts,
      channel: SLACK_CHANNEL,
      "event_ts": ts,
    },
  };
}

/** The harness: app, chat, fakes, and request helpers. */
export interface ChatHarness extends AsyncDisposable {
  test: TestApp;
  chat: Chat;
  slack: SlackApi;
  telegram: TelegramApi;
  /** Sends a request to the chat routes. */
  request(path: string, init: RequestInit): Promise<Response>;
  /** A signed slash command `/flowgate <text>`; `timestamp` in seconds overrides the clock. */
  slashCommand(
    text: string,
    options?: { user?: string; channel?: string; timestamp?: number; secret?: string },
  ): Promise<Response>;
  /** A signed block action pressing `action` on the card message `messageTs`. */
  blockAction(
    action: string,
    value: string,
    options: { user?: string; channel?: string; messageTs: string },
  ): Promise<Response>;
  /** A Telegram update, with the secret token unless `secret` is given (null: no header). */
  telegramUpdate(update: Record<string, unknown>, secret?: string | null): Promise<Response>;
  /** A Telegram text message update from `from` in `chat`. */
  telegramText(text: string, options?: { from?: string; chat?: string }): Promise<Response>;
}

let updateId = 1;
let triggerId = 1;

/** Signs a Slack request body as Slack does: `v0=` HMAC-SHA256 of `v0:<ts>:<body>`. */
export async function slackSignature(
  secret: string,
  timestamp: number,
  body: string,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(`v0:${timestamp}:${body}`),
  );
  return `v0=${Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Options of `startChatHarness`. */
export interface ChatHarnessOptions {
  /** Run the publish gate: the approval service over the KV, without MISP. */
  approvals?: boolean;
}

/** Starts the harness; chats and users are registered as the constants say. */
export async function startChatHarness(options: ChatHarnessOptions = {}): Promise<ChatHarness> {
  const slack = startSlackApi({ token: SLACK_TOKEN });
  const telegram = startTelegramApi({
    token: TELEGRAM_TOKEN,
    chats: [TELEGRAM_CHAT, TELEGRAM_ADMIN],
  });
  const test = await startTestApp({
    env: {
      ...chatEnv(slack, telegram),
      FLOWGATE_CHAT_ADMINS: `slack:${SLACK_ADMIN},telegram:${TELEGRAM_ADMIN}`,
    },
    ...(options.approvals ? { approvals: true } : {}),
    // The tests announce runs themselves (`announceRun`), so verdicts do not post cards.
    announce: false,
    chat: {
      slack: { botId: "B0BOT", botUserId: "U0BOT", retries: 0 },
      telegram: {
        botInfo: TELEGRAM_BOT_INFO,
      },
    },
  });
  const chat = test.chat;
  await registerChatRooms(test);
  const request = (path: string, init: RequestInit) => test.request(path, init);

  const signed = async (
    body: string,
    contentType: string,
    options: { timestamp?: number; secret?: string } = {},
  ) => {
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1_000);
    return await request("/slack/events", {
      method: "POST",
      headers: {
        "content-type": contentType,
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": await slackSignature(
          options.secret ?? SIGNING_SECRET,
          timestamp,
          body,
        ),
      },
      body,
    });
  };

  const telegramUpdate = (update: Record<string, unknown>, secret?: string | null) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    const token = secret === undefined ? TELEGRAM_SECRET : secret;
    if (token !== null) headers["X-Telegram-Bot-Api-Secret-Token"] = token;
    return request("/telegram", { method: "POST", headers, body: JSON.stringify(update) });
  };

  return {
    test,
    chat,
    slack,
    telegram,
    request,
    slashCommand(text, options = {}) {
      const body = new URLSearchParams(
        slashCommandFields(slack, text, { ...options, triggerId: `trigger-${triggerId++}` }),
      ).toString();
      return signed(body, "application/x-www-form-urlencoded", options);
    },
    blockAction(action, value, options) {
      const payload = blockActionPayload(slack, action, value, {
        ...options,
        triggerId: `trigger-${triggerId++}`,
      });
      const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      return signed(body, "application/x-www-form-urlencoded");
    },
    telegramUpdate,
    telegramText(text, options = {}) {
      const chatId = Number(options.chat ?? TELEGRAM_CHAT);
      const from = Number(options.from ?? TELEGRAM_ADMIN);
      const entityLength = text.split(/\s/)[0]!.length;
      return telegramUpdate({
        "update_id": updateId++,
        message: {
          "message_id": updateId,
          date: Math.floor(Date.now() / 1_000),
          chat: chatId < 0
            ? { id: chatId, type: "supergroup", title: "SOC" }
            : { id: chatId, type: "private", "first_name": "Admin" },
          from: { id: from, "is_bot": false, "first_name": "Someone" },
          text,
          ...(text.startsWith("/")
            ? { entities: [{ type: "bot_command", offset: 0, length: entityLength }] }
            : {}),
        },
      });
    },
    async [Symbol.asyncDispose]() {
      await slack.close();
      await telegram.close();
      await test[Symbol.asyncDispose]();
    },
  };
}

/** A fresh Telegram update id, for hand-built updates. */
export function nextUpdateId(): number {
  return updateId++;
}

/** A Telegram callback query: `from` pressed button `action` on the card of `runId` in the SOC chat. */
export function telegramCallbackUpdate(
  runId: string,
  action: string,
  options: { messageId: number; from?: string },
): Record<string, unknown> {
  return {
    "update_id": nextUpdateId(),
    "callback_query": {
      id: `cb-${nextUpdateId()}`,
      from: {
        id: Number(options.from ?? TELEGRAM_RESPONDER),
        "is_bot": false,
        "first_name": "Resp",
      },
      "chat_instance": "ci",
      data: `fg:${action}:${runId}`,
      message: {
        "message_id": options.messageId,
        date: Math.floor(Date.now() / 1_000),
        chat: { id: Number(TELEGRAM_CHAT), type: "supergroup", title: "SOC" },
        text: "card",
      },
    },
  };
}
