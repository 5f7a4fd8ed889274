import assert from "node:assert/strict";
import { registerTelegramWebhook } from "../../cli/telegram_webhook.ts";
import { UsageError } from "../../cli/cli_support.ts";
import { startTelegramApi } from "../fakes/telegram_api.ts";

const TOKEN = "777:cli-test-token";

Deno.test("registerTelegramWebhook() calls setWebhook with the URL and the secret token", async () => {
  await using telegram = startTelegramApi({ token: TOKEN, chats: [] });
  const url = await registerTelegramWebhook("https://flowgate.example.org/base/", {
    botToken: TOKEN,
    secretToken: "secret_token-1",
    apiRoot: telegram.url,
    dropPending: true,
  });
  assert.equal(url, "https://flowgate.example.org/base/telegram");
  assert.deepEqual(telegram.calls, [{
    method: "setWebhook",
    payload: {
      url,
      "secret_token": "secret_token-1",
      "allowed_updates": ["message", "callback_query"],
      "drop_pending_updates": true,
    },
  }]);
});

Deno.test("registerTelegramWebhook() refuses plain http and bad secret tokens before calling", async (t) => {
  await using telegram = startTelegramApi({ token: TOKEN, chats: [] });
  const options = { botToken: TOKEN, secretToken: "ok", apiRoot: telegram.url };
  await t.step("http URL", async () => {
    await assert.rejects(
      registerTelegramWebhook("http://flowgate.example.org", options),
      UsageError,
    );
  });
  await t.step("secret token with spaces", async () => {
    await assert.rejects(
      registerTelegramWebhook("https://flowgate.example.org", { ...options, secretToken: "a b" }),
      UsageError,
    );
  });
  assert.equal(telegram.calls.length, 0);
});
