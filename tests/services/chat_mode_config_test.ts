import assert from "node:assert/strict";
import { ConfigError, configSecrets, loadConfig } from "../../services/config.ts";

const from = (env: Record<string, string>) => (name: string) => env[name];

/** The problem lines `loadConfig` reports for `env` (none when it loads). */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(from(env));
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
}

const APP_TOKEN = "xapp-1-A0APP-0123456789";

Deno.test("Slack uses HTTP by default and Socket Mode once SLACK_APP_TOKEN is set", () => {
  const http = loadConfig(from({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_SIGNING_SECRET: "secret" }));
  assert.equal(http.slack?.mode, "http");
  const socket = loadConfig(from({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: APP_TOKEN }));
  assert.equal(socket.slack?.mode, "socket");
  assert.equal(socket.slack?.appToken, APP_TOKEN);
  assert.equal(socket.slack?.signingSecret, undefined);
  assert.ok(configSecrets(socket).includes(APP_TOKEN));
  const forced = loadConfig(from({
    SLACK_BOT_TOKEN: "xoxb-1",
    SLACK_SIGNING_SECRET: "secret",
    SLACK_APP_TOKEN: APP_TOKEN,
    FLOWGATE_SLACK_MODE: "http",
  }));
  assert.equal(forced.slack?.mode, "http");
});

Deno.test("Telegram uses its webhook by default and polls only when told to", () => {
  assert.equal(loadConfig(from({ TELEGRAM_BOT_TOKEN: "1:a" })).telegram?.mode, "webhook");
  const polling = loadConfig(
    from({ TELEGRAM_BOT_TOKEN: "1:a", FLOWGATE_TELEGRAM_MODE: "Polling" }),
  );
  assert.equal(polling.telegram?.mode, "polling");
  assert.equal(polling.telegram?.secretToken, undefined);
});

Deno.test("chat modes say what each one still needs", () => {
  assert.deepEqual(problems({ FLOWGATE_SLACK_MODE: "socket", SLACK_BOT_TOKEN: "xoxb-1" }), [
    "SLACK_APP_TOKEN: required when FLOWGATE_SLACK_MODE=socket (an app-level token with " +
    "connections:write)",
  ]);
  assert.deepEqual(problems({ SLACK_APP_TOKEN: APP_TOKEN }), [
    "SLACK_BOT_TOKEN: required for Slack Socket Mode (it posts the messages)",
  ]);
  assert.match(
    problems({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xoxb-2" })[0]!,
    /^SLACK_APP_TOKEN: expected an app-level token \(xapp-/,
  );
  assert.deepEqual(problems({ FLOWGATE_SLACK_MODE: "websocket" }), [
    'FLOWGATE_SLACK_MODE: expected http or socket, got "websocket"',
  ]);
  assert.deepEqual(problems({ FLOWGATE_TELEGRAM_MODE: "push" }), [
    'FLOWGATE_TELEGRAM_MODE: expected webhook or polling, got "push"',
  ]);
  assert.deepEqual(problems({ FLOWGATE_TELEGRAM_MODE: "polling" }), [
    "TELEGRAM_BOT_TOKEN: required when FLOWGATE_TELEGRAM_MODE=polling",
  ]);
});

Deno.test("Deno Deploy refuses Socket Mode and long polling and says what to use instead", () => {
  const onDeploy = { DENO_DEPLOYMENT_ID: "abc123" };
  const slack = problems({ ...onDeploy, SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: APP_TOKEN });
  assert.equal(slack.length, 1);
  assert.match(slack[0]!, /^FLOWGATE_SLACK_MODE: Socket Mode needs a long-lived process/);
  assert.match(slack[0]!, /FLOWGATE_SLACK_MODE=http/);
  const telegram = problems({
    ...onDeploy,
    TELEGRAM_BOT_TOKEN: "1:a",
    FLOWGATE_TELEGRAM_MODE: "polling",
  });
  assert.equal(telegram.length, 1);
  assert.match(telegram[0]!, /use FLOWGATE_TELEGRAM_MODE=webhook there/);
  // Webhooks stay the default there.
  const webhooks = loadConfig(from({
    ...onDeploy,
    SLACK_BOT_TOKEN: "xoxb-1",
    SLACK_SIGNING_SECRET: "secret",
    TELEGRAM_BOT_TOKEN: "1:a",
  }));
  assert.equal(webhooks.slack?.mode, "http");
  assert.equal(webhooks.telegram?.mode, "webhook");
});
