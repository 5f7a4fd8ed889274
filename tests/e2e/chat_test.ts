/**
 * The chat bots end to end: a real Flowgate app (`createApp`, `:memory:` KV), the local fake
 * Slack Web API and fake Telegram Bot API, MISP's `/query`, and the admin API.
 */

import assert from "node:assert/strict";
import { createChat } from "../../bot/chat_routes.ts";
import { createApp } from "../../server/app.ts";
import { loadConfig } from "../../services/config.ts";
import { createAppContext } from "../../services/context.ts";
import { Metrics } from "../../services/metrics.ts";
import { ensureAdminToken } from "../../store/admin_token.ts";
import { listAudit } from "../../store/audit.ts";
import { getChatCard } from "../../store/chat_cards.ts";
import { bootstrapChatAdmins } from "../../store/chat_roles.ts";
import { listRuns } from "../../store/runs.ts";
import { RED_GATE_YAML, slackSignature } from "../bot/chat_harness.ts";
import { startSlackApi } from "../fakes/slack_api.ts";
import { startTelegramApi } from "../fakes/telegram_api.ts";
import { offlineServices } from "../../modules/offline_services.ts";
import { waitFor } from "../fixtures/wait_for.ts";
import { LOOPBACK_ENV, realEvent } from "../server/test_app.ts";

const ADMIN_TOKEN = "e2e-admin-token-0123456789";
const SIGNING_SECRET = "e2e-signing-secret";
const SLACK_TOKEN = "xoxb-e2e";
const TELEGRAM_TOKEN = "5151:E2E-token";
const TELEGRAM_SECRET = "e2e_secret-token";
const SLACK_CHANNEL = "C0E2E";
const TELEGRAM_GROUP = "-100777";

async function redEvent(): Promise<Record<string, unknown>> {
  const event = await realEvent();
  const inner = event.Event as { Tag: unknown[] };
  inner.Tag = [...inner.Tag, { id: "9001", name: "tlp:red", colour: "#CC0033" }];
  return event;
}

Deno.test("chat end to end: commands, roles, announcements, buttons and refusals", async (t) => {
  await using slack = startSlackApi({ token: SLACK_TOKEN });
  await using telegram = startTelegramApi({ token: TELEGRAM_TOKEN, chats: [TELEGRAM_GROUP] });
  using kv = await Deno.openKv(":memory:");
  const env: Record<string, string> = {
    FLOWGATE_ADMIN_TOKEN: ADMIN_TOKEN,
    FLOWGATE_KV: ":memory:",
    SLACK_BOT_TOKEN: SLACK_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: `${slack.url}/api`,
    TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
    TELEGRAM_SECRET_TOKEN: TELEGRAM_SECRET,
    TELEGRAM_API_ROOT: telegram.url,
    FLOWGATE_CHAT_ADMINS: "slack:UADMIN,telegram:501",
  };
  const config = loadConfig((name) => env[name]);
  await ensureAdminToken(kv, config.adminToken);
  await bootstrapChatAdmins(kv, config.chatAdmins);
  const ctx = createAppContext({
    kv,
    config,
    services: offlineServices(),
    metrics: new Metrics(),
    proxy: null,
  });
  const chat = createChat(ctx, {
    slack: { botId: "B0E2E", botUserId: "U0E2EBOT", retries: 0 },
    telegram: {
      botInfo: {
        id: 5151,
        "is_bot": true,
        "first_name": "Flowgate",
        username: "flowgate_e2e_bot",
      } as never,
    },
  });
  ctx.announcements.subscribe(chat.announceBlockedRun);
  const app = createApp(ctx, { chatWebhooks: chat.webhooks });
  const request = (path: string, init: RequestInit = {}) =>
    Promise.resolve(app.request(path, init, LOOPBACK_ENV));
  const admin = (path: string, init: RequestInit = {}) =>
    request(path, {
      ...init,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...init.headers },
    });
  let trigger = 0;
  const slash = async (
    text: string,
    user: string,
    options: { secret?: string; skewS?: number } = {},
  ) => {
    const timestamp = Math.floor(Date.now() / 1_000) + (options.skewS ?? 0);
    const body = new URLSearchParams({
      "channel_id": SLACK_CHANNEL,
      "channel_name": "soc",
      "user_id": user,
      command: "/flowgate",
      text,
      "response_url": slack.responseUrl(`r${++trigger}`),
      "trigger_id": `t${trigger}`,
    }).toString();
    return await request("/slack/events", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
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
  let updateId = 100;
  const tg = (update: Record<string, unknown>, secret: string | null = TELEGRAM_SECRET) =>
    request("/telegram", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(secret === null ? {} : { "X-Telegram-Bot-Api-Secret-Token": secret }),
      },
      body: JSON.stringify(update),
    });
  const tgText = (text: string, from: number) =>
    tg({
      "update_id": ++updateId,
      message: {
        "message_id": updateId,
        date: Math.floor(Date.now() / 1_000),
        chat: { id: Number(TELEGRAM_GROUP), type: "supergroup", title: "SOC" },
        from: { id: from, "is_bot": false, "first_name": "User" },
        text,
        entities: [{ type: "bot_command", offset: 0, length: text.split(" ")[0]!.length }],
      },
    });
  const query = (data: unknown) =>
    request("/query", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ module: "flowgate_event_publish", data, params: {} }),
    });
  const respondsTo = (id: string) =>
    slack.calls.find((call) => call.method === "respond" && call.responseId === id);

  await t.step("admin API sets up chats and roles", async () => {
    for (const [platform, chatId] of [["slack", SLACK_CHANNEL], ["telegram", TELEGRAM_GROUP]]) {
      const response = await admin("/api/chat/chats", {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ platform, "chat_id": chatId, announce: true }),
      });
      assert.equal(response.status, 200);
      assert.equal((await response.json()).max_tlp, "amber");
    }
    for (const [platform, userId] of [["slack", "URESP"], ["telegram", "502"]]) {
      const response = await admin("/api/chat/roles", {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ platform, "user_id": userId, role: "responder" }),
      });
      assert.equal(response.status, 200);
    }
    const roles = await (await admin("/api/chat/roles")).json();
    assert.equal(roles.items.length, 4);
    assert.equal((await request("/api/chat/roles")).status, 401);
    const created = await admin("/api/workflows", {
      method: "POST",
      headers: { "Content-Type": "application/yaml" },
      body: RED_GATE_YAML,
    });
    assert.equal(created.status, 201);
  });

  await t.step(
    "a signed Slack /flowgate list and a Telegram /list answer with the workflows",
    async () => {
      assert.equal((await slash("list", "URESP")).status, 200);
      await waitFor(() => respondsTo(`r${trigger}`) !== undefined, {
        what: "the answer to /flowgate list",
      });
      assert.match(String(respondsTo(`r${trigger}`)!.payload.text), /red-gate · event-publish/);
      assert.equal((await tgText("/list", 502)).status, 200);
      const sent = telegram.calls.filter((call) => call.method === "sendMessage").at(-1);
      assert.match(String(sent?.payload.text), /red-gate · event-publish/);
    },
  );

  let blockedRunId = "";
  await t.step("a blocking run produces a card in both chats", async () => {
    const response = await query(await redEvent());
    assert.match((await response.json()).error, /Publication blocked: tlp:red/);
    // The cards are posted in the background after the verdict, then their message ids stored:
    // the fakes seeing the posts is not enough for the buttons of the next step.
    blockedRunId = (await listRuns(kv, { outcome: "blocked" })).items[0]!.id;
    await waitFor(async () => {
      const messages = (await getChatCard(kv, blockedRunId))?.messages ?? [];
      return ["slack", "telegram"].every((platform) =>
        messages.some((message) => message.platform === platform)
      );
    }, { what: `the Slack and Telegram cards of run "${blockedRunId}" stored` });
    const card = JSON.stringify(slack.calls.find((call) => call.method === "chat.postMessage"));
    assert.match(card, /Blocked: red-gate/);
    assert.match(card, /TLP:RED content withheld from this chat/);
    assert.ok(!card.includes("This is the description"), "TLP:RED event info reached Slack");
    assert.match(card, /tlp-red|stop \(stop-execution\)/);
  });

  await t.step(
    "Replay pressed in Slack and in Telegram runs once each and edits the cards",
    async () => {
      const card = await getChatCard(kv, blockedRunId);
      const ts = card!.messages.find((message) => message.platform === "slack")!.message_id;
      const payload = {
        type: "block_actions",
        user: { id: "URESP" },
        channel: { id: SLACK_CHANNEL },
        container: { type: "message", "message_ts": ts, "channel_id": SLACK_CHANNEL },
        message: { ts, text: "card" },
        "response_url": slack.responseUrl("press"),
        "trigger_id": "press-trigger",
        actions: [{ type: "button", "action_id": "flowgate_replay", value: blockedRunId }],
      };
      const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const press = async () => {
        const timestamp = Math.floor(Date.now() / 1_000);
        return await request("/slack/events", {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": String(timestamp),
            "x-slack-signature": await slackSignature(SIGNING_SECRET, timestamp, body),
          },
          body,
        });
      };
      assert.equal((await press()).status, 200);
      await waitFor(() => respondsTo("press") !== undefined, {
        what: "the answer to the Replay button",
      });
      assert.equal((await press()).status, 200);

      const callback = {
        "update_id": ++updateId,
        "callback_query": {
          id: "cb1",
          from: { id: 502, "is_bot": false, "first_name": "Resp" },
          "chat_instance": "ci",
          data: `fg:replay:${blockedRunId}`,
          message: {
            "message_id": 1,
            date: Math.floor(Date.now() / 1_000),
            chat: { id: Number(TELEGRAM_GROUP), type: "supergroup", title: "SOC" },
            text: "card",
          },
        },
      };
      assert.equal((await tg(callback)).status, 200);
      assert.equal((await tg(callback)).status, 200);

      const replays = (await listRuns(kv)).items.filter((run) => run.replay_of === blockedRunId);
      assert.equal(replays.length, 2);
      assert.equal(slack.calls.filter((call) => call.method === "chat.update").length, 2);
      assert.equal(telegram.calls.filter((call) => call.method === "editMessageText").length, 2);
      assert.equal(
        telegram.calls.filter((call) => call.method === "answerCallbackQuery").length,
        1,
      );
    },
  );

  await t.step(
    "disable is refused to a responder, works for an admin, and the workflow stops",
    async () => {
      await slash("disable red-gate", "URESP");
      await waitFor(() => respondsTo(`r${trigger}`) !== undefined, {
        what: "the answer to /flowgate disable",
      });
      assert.match(String(respondsTo(`r${trigger}`)!.payload.text), /needs the admin role/);
      assert.match((await (await query(await redEvent())).json()).error, /tlp:red/);
      // That block is announced too; let its cards land before counting calls again.
      const blockedCards = () =>
        telegram.calls.filter((call) =>
          call.method === "sendMessage" && String(call.payload.text).includes("Blocked: red-gate")
        ).length;
      await waitFor(
        () =>
          slack.calls.filter((call) => call.method === "chat.postMessage").length === 2 &&
          blockedCards() === 2,
        { what: "the second block's cards in Slack and Telegram" },
      );
      await tgText("/disable red-gate for 2h", 501);
      assert.match(
        String(telegram.calls.filter((c) => c.method === "sendMessage").at(-1)?.payload.text),
        /disabled by telegram:501 until/,
      );
      const before = (await listRuns(kv)).items.length;
      assert.deepEqual(await (await query(await redEvent())).json(), { data: true });
      assert.equal((await listRuns(kv)).items.length, before);
    },
  );

  await t.step(
    "bad or stale Slack signatures and Telegram updates without the secret get 401",
    async () => {
      const runs = (await listRuns(kv)).items.length;
      const audit = (await listAudit(kv)).items.length;
      const calls = slack.calls.length + telegram.calls.length;
      assert.equal((await slash("enable red-gate", "UADMIN", { secret: "wrong" })).status, 401);
      assert.equal((await slash("enable red-gate", "UADMIN", { skewS: -600 })).status, 401);
      assert.equal((await slash("enable red-gate", "UADMIN", { skewS: 600 })).status, 401);
      const update = {
        "update_id": ++updateId,
        message: {
          "message_id": 1,
          date: 0,
          chat: { id: Number(TELEGRAM_GROUP), type: "supergroup", title: "SOC" },
          from: { id: 501, "is_bot": false, "first_name": "Admin" },
          text: "/enable red-gate",
          entities: [{ type: "bot_command", offset: 0, length: 7 }],
        },
      };
      assert.equal((await tg(update, null)).status, 401);
      assert.equal((await tg(update, "wrong-secret")).status, 401);
      assert.equal((await listRuns(kv)).items.length, runs);
      assert.equal((await listAudit(kv)).items.length, audit);
      assert.equal(slack.calls.length + telegram.calls.length, calls);
      assert.deepEqual(await (await query(await redEvent())).json(), { data: true });
    },
  );
});
