import assert from "node:assert/strict";
import { listAudit } from "../../store/audit.ts";
import { getWorkflow } from "../../store/workflows.ts";
import {
  addGate,
  nextUpdateId,
  startChatHarness,
  TELEGRAM_ADMIN,
  TELEGRAM_CHAT,
  TELEGRAM_RESPONDER,
} from "./chat_harness.ts";

Deno.test("Telegram /list answers with the workflows in the chat", async () => {
  await using h = await startChatHarness();
  await addGate(h.test.kv);
  const response = await h.telegramText("/list");
  assert.equal(response.status, 200);
  const sent = h.telegram.calls.filter((call) => call.method === "sendMessage");
  assert.equal(sent.length, 1);
  assert.equal(String(sent[0]!.payload.chat_id), TELEGRAM_CHAT);
  assert.equal(sent[0]!.payload.parse_mode, "HTML");
  assert.match(String(sent[0]!.payload.text), /<b>Workflows \(1\)<\/b>\ngate · event-publish/);
});

Deno.test("Telegram commands addressed to another bot are ignored", async () => {
  await using h = await startChatHarness();
  assert.equal((await h.telegramText("/list@some_other_bot")).status, 200);
  assert.equal(h.telegram.calls.length, 0);
  assert.equal((await h.telegramText("/list@flowgate_test_bot")).status, 200);
  assert.equal(h.telegram.calls.length, 1);
});

Deno.test("Telegram updates without the right secret token get 401 and change nothing", async (t) => {
  await using h = await startChatHarness();
  const id = await addGate(h.test.kv);
  const update = () => ({
    "update_id": nextUpdateId(),
    message: {
      "message_id": 1,
      date: Math.floor(Date.now() / 1_000),
      chat: { id: Number(TELEGRAM_CHAT), type: "supergroup", title: "SOC" },
      from: { id: Number(TELEGRAM_ADMIN), "is_bot": false, "first_name": "Admin" },
      text: "/disable gate",
      entities: [{ type: "bot_command", offset: 0, length: 8 }],
    },
  });
  for (const [name, secret] of [["missing", null], ["wrong", "not-the-secret"]] as const) {
    await t.step(`${name} secret token`, async () => {
      const response = await h.telegramUpdate(update(), secret);
      assert.equal(response.status, 401);
    });
  }
  assert.equal((await getWorkflow(h.test.kv, id))?.workflow.enabled, true);
  assert.equal(h.telegram.calls.length, 0);
  assert.equal((await listAudit(h.test.kv)).items.length, 0);
});

Deno.test("Telegram /disable is refused to a responder, done for an admin, once per update_id", async () => {
  await using h = await startChatHarness();
  const id = await addGate(h.test.kv);
  await h.telegramText("/disable gate", { from: TELEGRAM_RESPONDER });
  assert.match(String(h.telegram.calls.at(-1)?.payload.text), /needs the admin role/);
  assert.equal((await getWorkflow(h.test.kv, id))?.workflow.enabled, true);

  const update = {
    "update_id": nextUpdateId(),
    message: {
      "message_id": 7,
      date: Math.floor(Date.now() / 1_000),
      chat: { id: Number(TELEGRAM_CHAT), type: "supergroup", title: "SOC" },
      from: { id: Number(TELEGRAM_ADMIN), "is_bot": false, "first_name": "Admin" },
      text: "/disable gate for 30m",
      entities: [{ type: "bot_command", offset: 0, length: 8 }],
    },
  };
  assert.equal((await h.telegramUpdate(update)).status, 200);
  assert.match(String(h.telegram.calls.at(-1)?.payload.text), /disabled by telegram:1001 until/);
  const stored = await getWorkflow(h.test.kv, id);
  assert.equal(stored?.workflow.enabled, false);
  const calls = h.telegram.calls.length;
  assert.equal((await h.telegramUpdate(update)).status, 200);
  assert.equal(h.telegram.calls.length, calls);
  assert.equal((await getWorkflow(h.test.kv, id))?.version, stored?.version);
});

Deno.test("Telegram help in a private chat shows what the caller may do, or how to get access", async () => {
  await using h = await startChatHarness();
  await h.telegramText("/start", { from: TELEGRAM_ADMIN, chat: TELEGRAM_ADMIN });
  const admin = String(h.telegram.calls.at(-1)?.payload.text);
  assert.match(admin, /Flowgate \(admin\)/);
  assert.match(admin, /disable &lt;workflow&gt;/);

  await h.telegramText("/help", { from: TELEGRAM_RESPONDER });
  const responder = String(h.telegram.calls.at(-1)?.payload.text);
  assert.match(responder, /replay/);
  assert.doesNotMatch(responder, /disable/);

  await h.telegramText("/help", { from: "999" });
  assert.match(
    String(h.telegram.calls.at(-1)?.payload.text),
    /you have no Flowgate role.*user "999"/s,
  );
});
