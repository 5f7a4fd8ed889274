import assert from "node:assert/strict";
import {
  createActionRedactor,
  displayUrl,
  redactRecord,
  redactUrl,
  secretParamValues,
} from "../../../modules/action/lib/redact.ts";
import { telegramSendAlert } from "../../../modules/action/telegram_send_alert.ts";
import { Redactor } from "../../../engine/redactor.ts";

Deno.test("redactUrl() removes credentials, bot tokens and secret query values", () => {
  assert.equal(
    redactUrl("https://user:pw@hooks.example/bot123:ABC-def/sendMessage?token=abc&x=1&sig=zz#f"),
    "https://[redacted]@hooks.example/bot[redacted]/sendMessage?token=[redacted]&x=1&sig=[redacted]#f",
  );
  assert.equal(redactUrl("http://example.org/plain?a=b"), "http://example.org/plain?a=b");
  assert.equal(redactUrl("not a url /bot1:x/y"), "not a url /bot[redacted]/y");
});

Deno.test("displayUrl() hides secrets inside a URL and a URL that is itself a secret", () => {
  const url = "https://outlook.example/webhookb2/very-secret-path";
  assert.equal(displayUrl(url, new Redactor([url])), "https://outlook.example/[redacted]");
  assert.equal(
    displayUrl("https://splunk.example/c?channel=abcd-secret", new Redactor(["abcd-secret"])),
    "https://splunk.example/c?channel=%5Bredacted%5D",
  );
});

Deno.test("secretParamValues() and createActionRedactor() cover secret params and run secrets", () => {
  const params = { bot_token: "123:secret-token", chat_id: "42", message_body_template: "hi" };
  assert.deepEqual(secretParamValues(telegramSendAlert.descriptor, params), ["123:secret-token"]);
  const redactor = createActionRedactor(telegramSendAlert.descriptor, {
    params,
    services: { secrets: ["misp-api-key-0001"] },
  });
  const record = redactRecord({
    kind: "http",
    dry: true,
    url: "https://api.example/bot123:secret-token/sendMessage",
    summary: "POST with misp-api-key-0001",
    details: { note: "token 123:secret-token" },
  }, redactor);
  assert.equal(record.url, "https://api.example/bot[redacted]/sendMessage");
  assert.equal(record.summary, "POST with [redacted]");
  assert.deepEqual(record.details, { note: "token [redacted]" });
});
