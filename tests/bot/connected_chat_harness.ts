/**
 * A Flowgate app whose chat bots open their own connections, as on a host without a public URL:
 * Slack in Socket Mode against the fake `apps.connections.open` and its fake WebSocket server,
 * Telegram long polling the fake `getUpdates`. Rooms, roles and the approval workflow are those of
 * `chat_harness.ts`; disposing stops the bots before the fakes, so no connection is left open.
 *
 * @module
 */

import { announceRun } from "../../bot/announce.ts";
import { parseWorkflowYaml } from "../../engine/yaml_codec.ts";
import { MODULE_CATALOG } from "../../modules/registry.ts";
import { decideVerdict } from "../../services/verdict.ts";
import { listApprovals } from "../../store/approvals.ts";
import { getChatCard } from "../../store/chat_cards.ts";
import { getRun } from "../../store/runs.ts";
import type { RunRecord } from "../../store/types.ts";
import { createWorkflow } from "../../store/workflows.ts";
import { type SlackApi, startSlackApi } from "../fakes/slack_api.ts";
import { type SlackSocketServer, startSlackSocket } from "../fakes/slack_socket.ts";
import { startTelegramApi, type TelegramApi } from "../fakes/telegram_api.ts";
import { amberEvent, approvalWorkflowYaml } from "../fixtures/approval_setup.ts";
import { waitFor } from "../fixtures/wait_for.ts";
import { startTestApp, type TestApp } from "../server/test_app.ts";
import {
  registerChatRooms,
  SLACK_ADMIN,
  SLACK_TOKEN,
  slashCommandFields,
  TELEGRAM_ADMIN,
  TELEGRAM_BOT_INFO,
  TELEGRAM_CHAT,
  TELEGRAM_TOKEN,
} from "./chat_harness.ts";

/** The app-level token the fake `apps.connections.open` accepts. */
export const SLACK_APP_TOKEN = "xapp-1-A0APP-test-app-token";
/** Pauses between reconnections in tests. */
const RETRY_MS = { first: 10, max: 100 };

/** Options of `startConnectedChat`. */
export interface ConnectedChatOptions {
  /** Run the publish gate: the approval service over the KV, without MISP. */
  approvals?: boolean;
  /** The app-level token Flowgate uses (default the one the fake accepts). */
  appToken?: string;
  /** The bot token Flowgate uses (default the one the Telegram fake accepts). */
  telegramToken?: string;
  /** A webhook already registered with the fake Telegram, as before a switch to polling. */
  telegramWebhook?: string;
  /** Start the bots' connections (default true). */
  start?: boolean;
}

/** The running app, its fakes, and helpers. */
export interface ConnectedChat extends AsyncDisposable {
  test: TestApp;
  slack: SlackApi;
  socket: SlackSocketServer;
  telegram: TelegramApi;
  /** A parked run announced to both chats: its approval and the ids of its card messages. */
  parkAndAnnounce(): Promise<
    { run: RunRecord; approvalId: string; slackTs: string; telegramId: number }
  >;
}

/** Starts the app and its fakes; with `start` (the default), waits for both bots to connect. */
export async function startConnectedChat(
  options: ConnectedChatOptions = {},
): Promise<ConnectedChat> {
  const socket = startSlackSocket();
  const slack = startSlackApi({
    token: SLACK_TOKEN,
    socketMode: { appToken: SLACK_APP_TOKEN, server: socket },
  });
  const telegram = startTelegramApi({
    token: TELEGRAM_TOKEN,
    chats: [TELEGRAM_CHAT, TELEGRAM_ADMIN],
  });
  if (options.telegramWebhook) {
    await fetch(`${telegram.url}/bot${TELEGRAM_TOKEN}/setWebhook`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: options.telegramWebhook }),
    }).then((response) => response.body?.cancel());
  }
  const test = await startTestApp({
    env: {
      SLACK_BOT_TOKEN: SLACK_TOKEN,
      SLACK_APP_TOKEN: options.appToken ?? SLACK_APP_TOKEN,
      SLACK_API_URL: `${slack.url}/api`,
      TELEGRAM_BOT_TOKEN: options.telegramToken ?? TELEGRAM_TOKEN,
      FLOWGATE_TELEGRAM_MODE: "polling",
      TELEGRAM_API_ROOT: telegram.url,
      FLOWGATE_CHAT_ADMINS: `slack:${SLACK_ADMIN},telegram:${TELEGRAM_ADMIN}`,
    },
    ...(options.approvals ? { approvals: true } : {}),
    announce: false,
    chat: {
      slack: { botId: "B0BOT", botUserId: "U0BOT", retries: 0, retryMs: RETRY_MS },
      telegram: {
        retryMs: RETRY_MS,
        botInfo: TELEGRAM_BOT_INFO,
      },
    },
  });
  await registerChatRooms(test);
  if (options.start ?? true) {
    test.chat.start();
    await waitFor(() => socket.connected(), { what: "the Slack Socket Mode client to connect" });
    await waitFor(
      () => telegram.calls.some((call) => call.method === "getUpdates"),
      { what: "the Telegram bot to poll getUpdates" },
    );
  }
  return {
    test,
    slack,
    socket,
    telegram,
    async parkAndAnnounce() {
      const workflow = parseWorkflowYaml(await approvalWorkflowYaml(), {
        catalog: MODULE_CATALOG,
      });
      await createWorkflow(test.kv, workflow, { actor: "test", sourceFormat: "yaml" });
      const verdict = await decideVerdict(test.ctx, "event-publish", await amberEvent(), {
        actor: { kind: "misp" },
      });
      const run = (await getRun(test.kv, verdict.runIds[0]!))!;
      await announceRun(test.chat.core, run);
      const card = (await getChatCard(test.kv, run.id))!;
      const [approval] = await listApprovals(test.kv);
      return {
        run,
        approvalId: approval!.id,
        slackTs: card.messages.find((m) => m.platform === "slack")!.message_id,
        telegramId: Number(card.messages.find((m) => m.platform === "telegram")!.message_id),
      };
    },
    async [Symbol.asyncDispose]() {
      await test.chat.stop();
      await slack.close();
      await telegram.close();
      await socket.close();
      await test[Symbol.asyncDispose]();
    },
  };
}

/** A slash command `/flowgate <text>` as a Socket Mode `slash_commands` payload. */
export function slashCommandPayload(
  slack: SlackApi,
  text: string,
  options: { user?: string; triggerId: string },
): Record<string, unknown> {
  return {
    ...slashCommandFields(slack, text, options),
    "team_domain": "soc",
    "is_enterprise_install": "false",
  };
}
