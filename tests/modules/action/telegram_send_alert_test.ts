import assert from "node:assert/strict";
import { sha256Hex } from "../../../engine/digest.ts";
import { createTelegramSendAlert } from "../../../modules/action/telegram_send_alert.ts";
import { TransientError } from "../../../engine/module_errors.ts";
import { setLogSink } from "../../../engine/log.ts";
import { startTelegramApi } from "../../fakes/telegram_api.ts";
import { createOutboundContext, loopbackFetch, sightingData } from "./outbound_test_context.ts";

const TOKEN = "123456:AAH-secret_bot_token";

Deno.test("telegram-send-alert posts the rendered message in HTML mode", async () => {
  await using telegram = startTelegramApi({ token: TOKEN, chats: ["-1001"] });
  const module = createTelegramSendAlert({ apiRoot: `${telegram.url}/` });
  const data = await sightingData();
  (data.Event as Record<string, unknown>).info = "<b>evil</b> & co";
  const { context, records } = createOutboundContext({
    module,
    data,
    params: {
      bot_token: TOKEN,
      chat_id: "-1001",
      message_body_template: "<b>{{ Event.info }}</b> ({{ Event.Attribute | length }} attributes)",
    },
    services: { outboundFetch: loopbackFetch() },
  });
  assert.equal(await module.exec(context), true);
  assert.deepEqual(context.errors, []);
  const [request] = telegram.requests;
  assert.equal(request?.method, "POST");
  assert.equal(request?.path, `/bot${TOKEN}/sendMessage`);
  assert.equal(request?.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(request?.body ?? ""), {
    chat_id: "-1001",
    text: "<b>&lt;b&gt;evil&lt;/b&gt; &amp; co</b> (2 attributes)",
    parse_mode: "HTML",
  });
  assert.equal(records[0]?.url, `${telegram.url}/bot[redacted]/sendMessage`);
  assert.equal(records[0]?.body_digest, await sha256Hex(request?.body ?? ""));
});

Deno.test("telegram-send-alert fails as MISP does and never shows the token", async (t) => {
  await using telegram = startTelegramApi({ token: TOKEN, chats: ["-1001"] });
  const module = createTelegramSendAlert({ apiRoot: telegram.url });
  const lines: string[] = [];
  const previous = setLogSink((line) => lines.push(line));
  const exec = async (params: Record<string, unknown>, dryRun = false) => {
    const { context, records } = createOutboundContext({
      module,
      data: { Event: { info: "x" } },
      params: { chat_id: "-1001", message_body_template: "hi", ...params },
      dryRun,
      services: { outboundFetch: loopbackFetch() },
    });
    try {
      return { result: await module.exec(context), errors: context.errors, records };
    } catch (error) {
      return { error, errors: context.errors, records };
    }
  };
  try {
    await t.step("a wrong token", async () => {
      const outcome = await exec({ bot_token: "999:wrong-token-value" });
      assert.equal(outcome.result, false);
      assert.deepEqual(outcome.errors, ["Authentication failed"]);
      assert.doesNotMatch(JSON.stringify(outcome.records), /wrong-token-value/);
    });
    await t.step("an unknown chat quotes Telegram's answer", async () => {
      const outcome = await exec({ bot_token: TOKEN, chat_id: "42" });
      assert.equal(outcome.result, false);
      assert.deepEqual(outcome.errors, [
        'Something went wrong with the request: {"ok":false,"error_code":400,"description":"Bad Request: chat not found"}',
      ]);
    });
    await t.step("429 is transient", async () => {
      telegram.rateLimitNext(1);
      const outcome = await exec({ bot_token: TOKEN });
      assert.ok(outcome.error instanceof TransientError);
      assert.doesNotMatch(outcome.error.message, /secret_bot_token/);
    });
    await t.step("a dry run records without the token and sends nothing", async () => {
      const before = telegram.requests.length;
      const outcome = await exec({ bot_token: TOKEN }, true);
      assert.equal(outcome.result, true);
      assert.equal(telegram.requests.length, before);
      assert.equal(outcome.records[0]?.dry, true);
      assert.match(outcome.records[0]?.summary ?? "", /\/bot\[redacted\]\/sendMessage \(Telegram/);
    });
    await t.step("a connection failure names the URL without the token", async () => {
      const closed = startTelegramApi({ token: TOKEN, chats: [] });
      await closed.close();
      const offline = createTelegramSendAlert({ apiRoot: closed.url });
      const { context, records } = createOutboundContext({
        module: offline,
        data: { Event: {} },
        params: { bot_token: TOKEN, chat_id: "1", message_body_template: "x" },
        services: { outboundFetch: loopbackFetch() },
      });
      await assert.rejects(async () => await offline.exec(context), (error: unknown) => {
        assert.ok(error instanceof TransientError);
        assert.match(
          error.message,
          /^Something went wrong while sending the request\. Error returned: Cannot call ".*\/bot\[redacted\]\/sendMessage": connection refused$/,
        );
        return true;
      });
      assert.doesNotMatch(JSON.stringify(records), /secret_bot_token/);
    });
  } finally {
    setLogSink(previous);
  }
  assert.doesNotMatch(lines.join("\n"), /secret_bot_token/);
});
