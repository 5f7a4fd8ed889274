import assert from "node:assert/strict";
import {
  ConfigError,
  configSecrets,
  DEFAULT_MAX_BODY_BYTES,
  loadConfig,
} from "../../services/config.ts";

const from = (env: Record<string, string>) => (name: string) => env[name];

Deno.test("loadConfig() gives DESIGN.md's defaults with nothing set", () => {
  const config = loadConfig(from({}));
  assert.equal(config.port, 8_000);
  assert.equal(config.kvPath, "./data/flowgate.kv");
  assert.deepEqual(config.mispAllow, ["127.0.0.1/8", "::1"]);
  assert.equal(config.verdictTimeoutMs, 2_000);
  assert.equal(config.verdictWorkers, 2);
  assert.equal(config.verdictHandover, "busy");
  assert.equal(config.retentionDays, 14);
  assert.equal(config.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  assert.equal(config.hookDedupeWindowS, 600);
  assert.equal(config.misp, null);
  assert.equal(config.slack, null);
  assert.equal(config.telegram, null);
  assert.equal(config.hookToken, undefined);
});

Deno.test("FLOWGATE_VERDICT_WORKERS: 2 on a machine, 0 on Deno Deploy, 0 to 16 when set", () => {
  assert.equal(loadConfig(from({ DENO_DEPLOYMENT_ID: "abc" })).verdictWorkers, 0);
  assert.equal(loadConfig(from({ FLOWGATE_VERDICT_WORKERS: "0" })).verdictWorkers, 0);
  assert.equal(loadConfig(from({ FLOWGATE_VERDICT_WORKERS: "4" })).verdictWorkers, 4);
  assert.throws(
    () => loadConfig(from({ FLOWGATE_VERDICT_WORKERS: "17" })),
    /FLOWGATE_VERDICT_WORKERS: expected an integer from 0 to 16, got "17"/,
  );
  assert.equal(loadConfig(from({ FLOWGATE_VERDICT_HANDOVER: "Always" })).verdictHandover, "always");
  assert.throws(
    () => loadConfig(from({ FLOWGATE_VERDICT_HANDOVER: "never" })),
    /FLOWGATE_VERDICT_HANDOVER: expected busy or always, got "never"/,
  );
});

Deno.test("loadConfig() uses the platform KV on Deno Deploy unless FLOWGATE_KV is set", () => {
  assert.equal(loadConfig(from({ DENO_DEPLOYMENT_ID: "abc" })).kvPath, undefined);
  assert.equal(
    loadConfig(from({ DENO_DEPLOYMENT_ID: "abc", FLOWGATE_KV: "/x.kv" })).kvPath,
    "/x.kv",
  );
});

Deno.test("loadConfig() reads integrations and lists their secrets for redaction", () => {
  const config = loadConfig(from({
    MISP_URL: "https://misp.example/",
    MISP_API_KEY: "misp-key-0123456789",
    MISP_TLS_VERIFY: "false",
    MISP_CA_CERT: "/etc/flowgate/misp-ca.pem",
    SMTP_URL: "smtp://flowgate:s%40cret-mail@mail.example:587",
    SLACK_BOT_TOKEN: "xoxb-1",
    SLACK_SIGNING_SECRET: "signing-secret",
    TELEGRAM_BOT_TOKEN: "123:abc",
    FLOWGATE_OUTBOUND_ALLOW: "10.0.0.0/8, 192.0.2.7",
    FLOWGATE_CHAT_ADMINS: "slack:U1,telegram:42",
    FLOWGATE_VERDICT_TIMEOUT_MS: "1_500",
  }));
  assert.deepEqual(config.misp, {
    url: "https://misp.example",
    apiKey: "misp-key-0123456789",
    tlsVerify: false,
    caCertFile: "/etc/flowgate/misp-ca.pem",
  });
  assert.equal(config.slack?.signingSecret, "signing-secret");
  assert.equal(config.telegram?.botToken, "123:abc");
  assert.deepEqual(config.outboundAllow, ["10.0.0.0/8", "192.0.2.7"]);
  assert.deepEqual(config.chatAdmins, ["slack:U1", "telegram:42"]);
  assert.equal(config.verdictTimeoutMs, 1_500);
  const secrets = configSecrets(config);
  for (
    const secret of ["misp-key-0123456789", "xoxb-1", "signing-secret", "123:abc", "s@cret-mail"]
  ) {
    assert.ok(secrets.includes(secret));
  }
});

Deno.test("loadConfig() names every bad value, one line each", () => {
  let error: unknown;
  try {
    loadConfig(from({
      PORT: "eighty",
      FLOWGATE_MISP_ALLOW: "10.0.0.0/33,localhost",
      FLOWGATE_VERDICT_TIMEOUT_MS: "60000",
      MISP_URL: "ftp://misp",
      MISP_TLS_VERIFY: "maybe",
      FLOWGATE_HOOK_TOKEN: "short",
      SLACK_BOT_TOKEN: "xoxb-1",
      SMTP_URL: "mail.example:25",
      FLOWGATE_CHAT_ADMINS: "U1",
    }));
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof ConfigError);
  assert.match(error.message, /^Invalid configuration:\n {2}MISP_URL: /);
  const lines = error.problems;
  const expected = [
    /^PORT: expected an integer from 0 to 65535, got "eighty"$/,
    /^FLOWGATE_MISP_ALLOW: "10.0.0.0\/33" is not an IP address or CIDR range$/,
    /^FLOWGATE_MISP_ALLOW: "localhost" is not an IP address or CIDR range$/,
    /^FLOWGATE_VERDICT_TIMEOUT_MS: expected an integer from 1 to 25000, got "60000"$/,
    /^MISP_URL: expected an http\(s\) URL, got "ftp:\/\/misp"$/,
    /^MISP_API_KEY: required when MISP_URL is set$/,
    /^MISP_TLS_VERIFY: expected true or false, got "maybe"$/,
    /^FLOWGATE_HOOK_TOKEN: must be at least 16 characters$/,
    /^SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN is set, unless Slack uses Socket Mode/,
    /^SMTP_URL: expected an smtp:\/\/ or smtps:\/\/ URL/,
    /^FLOWGATE_CHAT_ADMINS: "U1" is not "slack:<id>" or "telegram:<id>"$/,
  ];
  for (const pattern of expected) {
    assert.ok(
      lines.some((line) => pattern.test(line)),
      `missing ${pattern} in ${lines.join(" | ")}`,
    );
  }
  assert.equal(lines.length, expected.length);
});

Deno.test("loadConfig() reads the request body timeouts (10 s idle, 60 s total by default)", () => {
  const defaults = loadConfig(from({}));
  assert.equal(defaults.bodyIdleTimeoutMs, 10_000);
  assert.equal(defaults.bodyTimeoutMs, 60_000);
  const set = loadConfig(from({
    FLOWGATE_BODY_IDLE_TIMEOUT_MS: "250",
    FLOWGATE_BODY_TIMEOUT_MS: "1_000",
  }));
  assert.equal(set.bodyIdleTimeoutMs, 250);
  assert.equal(set.bodyTimeoutMs, 1_000);
  assert.throws(
    () =>
      loadConfig(from({ FLOWGATE_BODY_IDLE_TIMEOUT_MS: "0", FLOWGATE_BODY_TIMEOUT_MS: "soon" })),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 2);
      assert.match(error.problems[0]!, /^FLOWGATE_BODY_IDLE_TIMEOUT_MS: expected an integer/);
      return true;
    },
  );
});
