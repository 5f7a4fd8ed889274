import assert from "node:assert/strict";
import { setLogSink } from "../../engine/log.ts";
import { listAudit } from "../../store/audit.ts";
import {
  addGate,
  type ChatHarness,
  nextUpdateId,
  SIGNING_SECRET,
  slackSignature,
  startChatHarness,
  TELEGRAM_ADMIN,
  TELEGRAM_CHAT,
  TELEGRAM_SECRET,
} from "./chat_harness.ts";

/** Sends `body` to `/slack/events` with a valid signature over exactly that body. */
async function signedSlack(h: ChatHarness, body: string, contentType: string): Promise<Response> {
  const timestamp = Math.floor(Date.now() / 1_000);
  return await h.request("/slack/events", {
    method: "POST",
    headers: {
      "content-type": contentType,
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": await slackSignature(SIGNING_SECRET, timestamp, body),
    },
    body,
  });
}

/** Collects the log lines written while `fn` runs. */
async function captureLog(fn: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  const previous = setLogSink((line) => lines.push(JSON.parse(line)));
  try {
    await fn();
  } finally {
    setLogSink(previous);
  }
  return lines;
}

Deno.test("Slack signed bodies that are not Slack's get a 400 saying why, and do nothing", async (t) => {
  await using h = await startChatHarness();
  const json = "application/json";
  const form = "application/x-www-form-urlencoded";
  const cases = [
    { name: "null", body: "null", type: json, error: "Slack event body must be a JSON object" },
    {
      name: "a JSON list",
      body: "[]",
      type: json,
      error: "Slack event body must be a JSON object",
    },
    {
      name: "a JSON number",
      body: "1",
      type: json,
      error: "Slack event body must be a JSON object",
    },
    { name: "not JSON", body: "not json", type: json, error: /^Slack event body is not JSON: / },
    { name: "empty", body: "", type: json, error: /^Slack event body is not JSON: / },
    {
      name: "a form without payload or command",
      body: "a=b",
      type: form,
      error: 'Slack form body must carry a slash command ("command") or an interactivity "payload"',
    },
    {
      name: "a payload that is not JSON",
      body: "payload=not-json",
      type: form,
      error: /^Slack interactivity payload is not JSON: /,
    },
    {
      name: "a payload of null",
      body: "payload=null",
      type: form,
      error: "Slack interactivity payload must be a JSON object",
    },
  ];
  for (const { name, body, type, error } of cases) {
    await t.step(name, async () => {
      const response = await signedSlack(h, body, type);
      assert.equal(response.status, 400);
      assert.match(response.headers.get("content-type") ?? "", /application\/json/);
      const answer = (await response.json()).error;
      if (typeof error === "string") assert.equal(answer, error);
      else assert.match(answer, error);
    });
  }
  assert.equal(h.slack.calls.length, 0);
  assert.equal((await listAudit(h.test.kv)).items.length, 0);
});

Deno.test("Telegram updates without chat or from, and kinds Flowgate ignores, get 200 and do nothing", async (t) => {
  await using h = await startChatHarness();
  await addGate(h.test.kv);
  const date = Math.floor(Date.now() / 1_000);
  const chat = { id: Number(TELEGRAM_CHAT), type: "supergroup", title: "SOC" };
  const from = { id: Number(TELEGRAM_ADMIN), "is_bot": false, "first_name": "Admin" };
  const command = {
    text: "/disable gate",
    entities: [{ type: "bot_command", offset: 0, length: 8 }],
  };
  const cases: [string, Record<string, unknown>][] = [
    ["a message without from", { message: { "message_id": 1, date, chat, ...command } }],
    ["a message without chat", { message: { "message_id": 2, date, from, ...command } }],
    ["a message with neither", { message: { "message_id": 3, date, ...command } }],
    ["a callback query without from", {
      "callback_query": { id: "cb-1", "chat_instance": "ci", data: "fg:approve:01X" },
    }],
    ["a channel post", {
      "channel_post": { "message_id": 4, date, chat: { id: -100, type: "channel" }, ...command },
    }],
    ["an edited message", { "edited_message": { "message_id": 5, date, chat, from, ...command } }],
    ["my_chat_member", {
      "my_chat_member": {
        chat,
        from,
        date,
        "old_chat_member": { status: "left", user: from },
        "new_chat_member": { status: "member", user: from },
      },
    }],
    ["an unknown update type", { "future_update": { x: 1 } }],
    ["an update with nothing but its id", {}],
    ["a null message", { message: null }],
  ];
  for (const [name, update] of cases) {
    await t.step(name, async () => {
      const response = await h.telegramUpdate({ "update_id": nextUpdateId(), ...update });
      assert.equal(response.status, 200);
    });
  }
  assert.equal(h.telegram.calls.length, 0);
  assert.equal((await listAudit(h.test.kv)).items.length, 0);

  await t.step("a callback query without a message is answered, not failed", async () => {
    const response = await h.telegramUpdate({
      "update_id": nextUpdateId(),
      "callback_query": { id: "cb-2", from, "chat_instance": "ci", data: "fg:approve:01X" },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(h.telegram.calls.map((call) => call.method), ["answerCallbackQuery"]);
  });
});

Deno.test("a Telegram reply that fails is logged and Telegram still gets 200", async (t) => {
  await using h = await startChatHarness();
  for (const status of [400, 500]) {
    await t.step(`the Bot API answers ${status}`, async () => {
      h.telegram.failNext(1, status);
      let response: Response | undefined;
      const lines = await captureLog(async () => {
        response = await h.telegramText("/list");
      });
      assert.equal(response?.status, 200);
      const logged = lines.find((line) => line.level === "error");
      assert.equal(logged?.message, "Telegram refused a call while handling an update");
      assert.equal(logged?.method, "sendMessage");
      assert.equal(logged?.error_code, status);
    });
  }
  await t.step("an unknown chat (Telegram's own 400)", async () => {
    let response: Response | undefined;
    const lines = await captureLog(async () => {
      response = await h.telegramText("/list", { chat: "-100999" });
    });
    assert.equal(response?.status, 200);
    assert.match(String(lines.find((line) => line.level === "error")?.description), /chat not/);
  });
  await t.step("the Bot API is unreachable (connection refused)", async () => {
    await h.telegram.close();
    let response: Response | undefined;
    const lines = await captureLog(async () => {
      response = await h.telegramText("/list");
    });
    assert.equal(response?.status, 200);
    const logged = lines.find((line) => line.level === "error");
    assert.equal(logged?.message, "Telegram could not be reached while handling an update");
  });
});

Deno.test("Telegram bodies that are not updates get 400 with the secret and 401 without", async (t) => {
  await using h = await startChatHarness();
  const post = (body: string, secret: string | null) =>
    h.request("/telegram", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(secret === null ? {} : { "X-Telegram-Bot-Api-Secret-Token": secret }),
      },
      body,
    });
  for (const body of ["null", "[]", "not json", '{"update_id": "1"}', "{}"]) {
    await t.step(body, async () => {
      const response = await post(body, TELEGRAM_SECRET);
      assert.equal(response.status, 400);
      assert.match((await response.json()).error, /^Telegram update (is not JSON|must be)/);
      const anonymous = await post(body, null);
      assert.equal(anonymous.status, 401);
      await anonymous.body?.cancel();
      const wrong = await post(body, `${TELEGRAM_SECRET}x`);
      assert.equal(wrong.status, 401);
      await wrong.body?.cancel();
    });
  }
  assert.equal(h.telegram.calls.length, 0);
});
