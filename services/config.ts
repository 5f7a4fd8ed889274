/**
 * Flowgate's configuration: every environment variable of DESIGN.md's table, typed and validated
 * in one pass so a bad start names every wrong value at once.
 *
 * @module
 */

import ipaddr from "ipaddr.js";

/** Default listen port. */
export const DEFAULT_PORT = 8_000;
/** Default KV path when not on Deno Deploy. */
export const DEFAULT_KV_PATH = "./data/flowgate.kv";
/** Default addresses allowed to call `/modules` and `/query`. */
export const DEFAULT_MISP_ALLOW = ["127.0.0.1/8", "::1"];
/** Default verdict deadline, in milliseconds. */
export const DEFAULT_VERDICT_TIMEOUT_MS = 2_000;

/**
 * Verdict Workers on one machine: two keep both cores of a small server parsing and walking
 * verdicts while the server's thread reads bodies and stores runs.
 */
export const DEFAULT_VERDICT_WORKERS = 2;

/**
 * Which blocking `/query` calls are handed to a verdict Worker: `busy` (the default), only those
 * that come while another `/query` is being handled and are small enough to be decided beside
 * another (2.5 MiB), since a lone verdict is decided sooner on the server's thread (handing a
 * 4.4 MB event over and its runs back costs about 3 ms); `always`, every one, which keeps the
 * server's thread free for other requests during a large verdict.
 */
export type VerdictHandover = "busy" | "always";

/** Most verdict Workers: each holds its own copy of the engine and its own heap. */
const MAX_VERDICT_WORKERS = 16;
/** Longest verdict deadline accepted (MISP's own socket gives up well before 30 s). */
export const MAX_VERDICT_TIMEOUT_MS = 25_000;
/** Default run retention, in days. */
export const DEFAULT_RETENTION_DAYS = 14;
/** Default request body limit: 32 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 33_554_432;
/** Default wait for the next byte of a request body before answering 408, in milliseconds. */
export const DEFAULT_BODY_IDLE_TIMEOUT_MS = 10_000;
/** Default wait for a whole request body before answering 408, in milliseconds. */
export const DEFAULT_BODY_TIMEOUT_MS = 60_000;
/** Default webhook de-duplication window, in seconds. */
export const DEFAULT_HOOK_DEDUPE_WINDOW_S = 600;
/** A valid `TELEGRAM_SECRET_TOKEN` (Telegram's `secret_token`): 1 to 256 of `A-Z a-z 0-9 _ -`. */
export const TELEGRAM_SECRET_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;
/**
 * The Telegram updates Flowgate handles, asked for by the webhook (`setWebhook`) and by long
 * polling (`getUpdates`); Telegram sends no others.
 */
export const TELEGRAM_ALLOWED_UPDATES = ["message", "callback_query"] as const;

/** The MISP REST API, when `MISP_URL` and `MISP_API_KEY` are both set. */
export interface MispConfig {
  url: string;
  apiKey: string;
  tlsVerify: boolean;
  /** `MISP_CA_CERT`: PEM file of the CA (or self-signed certificate) MISP's TLS is checked against. */
  caCertFile?: string;
}

/**
 * How the Telegram bot gets its updates (`FLOWGATE_TELEGRAM_MODE`): Telegram calls `POST /telegram`
 * (`webhook`, the default), or Flowgate asks with `getUpdates` (`polling`, no public URL needed).
 */
export type TelegramMode = "webhook" | "polling";

/** The Telegram bot, when `TELEGRAM_BOT_TOKEN` is set. */
export interface TelegramConfig {
  botToken: string;
  mode: TelegramMode;
  /** Checks webhook calls; required for the `webhook` mode, unused when polling. */
  secretToken?: string;
  apiRoot?: string;
}

/**
 * How the Slack bot gets its events (`FLOWGATE_SLACK_MODE`): Slack calls `POST /slack/events`
 * (`http`), or Flowgate holds a Socket Mode WebSocket open to Slack (`socket`, no public URL
 * needed). Unset: `socket` when `SLACK_APP_TOKEN` is set (that token has no other use), else `http`.
 */
export type SlackMode = "http" | "socket";

/** The Slack bot, when `SLACK_BOT_TOKEN` is set (and the secret its mode needs). */
export interface SlackConfig {
  botToken: string;
  mode: SlackMode;
  /** Checks the signature of HTTP requests; required for the `http` mode. */
  signingSecret?: string;
  /** App-level token (`xapp-…`, scope `connections:write`); required for the `socket` mode. */
  appToken?: string;
  apiUrl?: string;
}

/** Flowgate's whole configuration; unset integrations are `null`. */
export interface Config {
  port: number;
  /** KV path or URL; `undefined` means the platform KV (Deno Deploy). */
  kvPath: string | undefined;
  adminToken?: string;
  hookToken?: string;
  /** CIDRs allowed to call `/modules` and `/query`. */
  mispAllow: string[];
  /** CIDRs of reverse proxies whose `X-Forwarded-For` is believed (`FLOWGATE_TRUSTED_PROXIES`). */
  trustedProxies: string[];
  workflowsDir?: string;
  verdictTimeoutMs: number;
  /**
   * Threads that decide `/query` verdicts (`FLOWGATE_VERDICT_WORKERS`; 0: all on the server's
   * thread, the default on Deno Deploy).
   */
  verdictWorkers: number;
  /** Which verdicts go to the verdict Workers (`FLOWGATE_VERDICT_HANDOVER`). */
  verdictHandover: VerdictHandover;
  misp: MispConfig | null;
  mispModulesUrl?: string;
  telegram: TelegramConfig | null;
  slack: SlackConfig | null;
  smtpUrl?: string;
  /** ZeroMQ PUB endpoint for `push-zmq` (`FLOWGATE_ZMQ_ENDPOINT`, a Flowgate addition). */
  zmqEndpoint?: string;
  outboundAllow: string[];
  chatAdmins: string[];
  retentionDays: number;
  maxBodyBytes: number;
  /** Longest wait for the next byte of a request body (`FLOWGATE_BODY_IDLE_TIMEOUT_MS`). */
  bodyIdleTimeoutMs: number;
  /** Longest wait for a whole request body (`FLOWGATE_BODY_TIMEOUT_MS`). */
  bodyTimeoutMs: number;
  hookDedupeWindowS: number;
}

/** Every bad value found in the environment, one line each. */
export class ConfigError extends RangeError {
  /** One message line per problem. */
  readonly problems: string[];

  /** Creates the error from its problem lines. */
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((line) => `  ${line}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Reads one variable; `Deno.env.get` in production, a plain record in tests. */
export type EnvReader = (name: string) => string | undefined;

/**
 * Builds the configuration from the environment.
 *
 * @param env reads a variable (default `Deno.env.get`)
 * @returns the typed configuration
 * @throws {ConfigError} listing every bad value
 */
export function loadConfig(env: EnvReader = (name) => Deno.env.get(name)): Config {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env(name)?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw.replaceAll("_", ""));
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}: expected an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const cidrs = (name: string, fallback: string[]): string[] => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const list = splitList(raw);
    for (const entry of list) {
      if (!isCidrOrAddress(entry)) {
        problems.push(`${name}: "${entry}" is not an IP address or CIDR range`);
      }
    }
    return list;
  };
  const url = (name: string): string | undefined => {
    const raw = read(name);
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (!["http:", "https:"].includes(parsed.protocol)) throw new TypeError(parsed.protocol);
      return raw.replace(/\/+$/, "");
    } catch {
      problems.push(`${name}: expected an http(s) URL, got "${raw}"`);
      return undefined;
    }
  };
  const boolean = (name: string, fallback: boolean): boolean => {
    const raw = read(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    problems.push(`${name}: expected true or false, got "${raw}"`);
    return fallback;
  };

  const onDeploy = read("DENO_DEPLOYMENT_ID") !== undefined;
  const mispUrl = url("MISP_URL");
  const mispKey = read("MISP_API_KEY");
  if (read("MISP_URL") !== undefined && mispKey === undefined) {
    problems.push("MISP_API_KEY: required when MISP_URL is set");
  }
  if (mispKey !== undefined && read("MISP_URL") === undefined) {
    problems.push("MISP_URL: required when MISP_API_KEY is set");
  }
  const mispTls = boolean("MISP_TLS_VERIFY", true);
  const telegramToken = read("TELEGRAM_BOT_TOKEN");
  const slackToken = read("SLACK_BOT_TOKEN");
  const slackSecret = read("SLACK_SIGNING_SECRET");
  const slackAppToken = read("SLACK_APP_TOKEN");
  const slackMode = modeOf(read, problems, {
    name: "FLOWGATE_SLACK_MODE",
    modes: ["http", "socket"],
    fallback: slackAppToken !== undefined ? "socket" : "http",
  });
  const telegramMode = modeOf(read, problems, {
    name: "FLOWGATE_TELEGRAM_MODE",
    modes: ["webhook", "polling"],
    fallback: "webhook",
  });
  problems.push(...chatModeProblems({
    onDeploy,
    slack: {
      mode: slackMode,
      botToken: slackToken,
      signingSecret: slackSecret,
      appToken: slackAppToken,
    },
    telegram: { mode: telegramMode, botToken: telegramToken },
  }));
  const smtpUrl = read("SMTP_URL");
  if (smtpUrl !== undefined && !/^smtps?:\/\//.test(smtpUrl)) {
    problems.push(`SMTP_URL: expected an smtp:// or smtps:// URL, got "${redactUrl(smtpUrl)}"`);
  }
  const zmqEndpoint = read("FLOWGATE_ZMQ_ENDPOINT");
  if (zmqEndpoint !== undefined && !/^(tcp|ipc|inproc):\/\//.test(zmqEndpoint)) {
    problems.push(
      `FLOWGATE_ZMQ_ENDPOINT: expected tcp://, ipc:// or inproc://, got "${zmqEndpoint}"`,
    );
  }
  const chatAdmins = splitList(read("FLOWGATE_CHAT_ADMINS") ?? "");
  for (const admin of chatAdmins) {
    if (!/^(slack|telegram):\S+$/.test(admin)) {
      problems.push(`FLOWGATE_CHAT_ADMINS: "${admin}" is not "slack:<id>" or "telegram:<id>"`);
    }
  }
  const adminToken = read("FLOWGATE_ADMIN_TOKEN");
  if (adminToken !== undefined && adminToken.length < 16) {
    problems.push("FLOWGATE_ADMIN_TOKEN: must be at least 16 characters");
  }
  const hookToken = read("FLOWGATE_HOOK_TOKEN");
  if (hookToken !== undefined && hookToken.length < 16) {
    problems.push("FLOWGATE_HOOK_TOKEN: must be at least 16 characters");
  }

  const config: Config = {
    port: integer("PORT", DEFAULT_PORT, 0, 65_535),
    kvPath: read("FLOWGATE_KV") ?? (onDeploy ? undefined : DEFAULT_KV_PATH),
    adminToken,
    hookToken,
    mispAllow: cidrs("FLOWGATE_MISP_ALLOW", DEFAULT_MISP_ALLOW),
    trustedProxies: cidrs("FLOWGATE_TRUSTED_PROXIES", []),
    workflowsDir: read("FLOWGATE_WORKFLOWS_DIR"),
    verdictTimeoutMs: integer(
      "FLOWGATE_VERDICT_TIMEOUT_MS",
      DEFAULT_VERDICT_TIMEOUT_MS,
      1,
      MAX_VERDICT_TIMEOUT_MS,
    ),
    verdictWorkers: integer(
      "FLOWGATE_VERDICT_WORKERS",
      onDeploy ? 0 : DEFAULT_VERDICT_WORKERS,
      0,
      MAX_VERDICT_WORKERS,
    ),
    verdictHandover: modeOf(read, problems, {
      name: "FLOWGATE_VERDICT_HANDOVER",
      modes: ["busy", "always"],
      fallback: "busy",
    }),
    misp: mispUrl && mispKey
      ? { url: mispUrl, apiKey: mispKey, tlsVerify: mispTls, caCertFile: read("MISP_CA_CERT") }
      : null,
    mispModulesUrl: url("FLOWGATE_MISP_MODULES_URL"),
    telegram: telegramToken
      ? {
        botToken: telegramToken,
        mode: telegramMode,
        secretToken: read("TELEGRAM_SECRET_TOKEN"),
        apiRoot: url("TELEGRAM_API_ROOT"),
      }
      : null,
    slack: slackToken
      ? {
        botToken: slackToken,
        mode: slackMode,
        signingSecret: slackSecret,
        appToken: slackAppToken,
        apiUrl: url("SLACK_API_URL"),
      }
      : null,
    smtpUrl,
    zmqEndpoint,
    outboundAllow: cidrs("FLOWGATE_OUTBOUND_ALLOW", []),
    chatAdmins,
    retentionDays: integer("FLOWGATE_RETENTION_DAYS", DEFAULT_RETENTION_DAYS, 1, 3_650),
    maxBodyBytes: integer("FLOWGATE_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1_024, 1_073_741_824),
    bodyIdleTimeoutMs: integer(
      "FLOWGATE_BODY_IDLE_TIMEOUT_MS",
      DEFAULT_BODY_IDLE_TIMEOUT_MS,
      1,
      600_000,
    ),
    bodyTimeoutMs: integer("FLOWGATE_BODY_TIMEOUT_MS", DEFAULT_BODY_TIMEOUT_MS, 1, 3_600_000),
    hookDedupeWindowS: integer(
      "FLOWGATE_HOOK_DEDUPE_WINDOW_S",
      DEFAULT_HOOK_DEDUPE_WINDOW_S,
      0,
      604_800,
    ),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The secret values of a configuration, for log and trace redaction. */
export function configSecrets(config: Config): string[] {
  return [
    config.adminToken,
    config.hookToken,
    config.misp?.apiKey,
    config.telegram?.botToken,
    config.telegram?.secretToken,
    config.slack?.botToken,
    config.slack?.signingSecret,
    config.slack?.appToken,
    smtpPassword(config.smtpUrl),
  ].filter((value): value is string => typeof value === "string" && value.length > 0);
}

/** Reads a chat mode variable: one of `modes`, `fallback` when unset. */
function modeOf<Mode extends string>(
  read: (name: string) => string | undefined,
  problems: string[],
  options: { name: string; modes: readonly Mode[]; fallback: Mode },
): Mode {
  const raw = read(options.name)?.toLowerCase();
  if (raw === undefined) return options.fallback;
  if ((options.modes as readonly string[]).includes(raw)) return raw as Mode;
  problems.push(`${options.name}: expected ${options.modes.join(" or ")}, got "${raw}"`);
  return options.fallback;
}

/**
 * What the chat modes still need: the secret or token of the chosen mode, and no long-lived
 * connection on Deno Deploy, whose isolates only run while a request is being answered.
 */
function chatModeProblems(settings: {
  onDeploy: boolean;
  slack: { mode: SlackMode; botToken?: string; signingSecret?: string; appToken?: string };
  telegram: { mode: TelegramMode; botToken?: string };
}): string[] {
  const problems: string[] = [];
  const { slack, telegram } = settings;
  if (slack.appToken !== undefined && !slack.appToken.startsWith("xapp-")) {
    problems.push(
      "SLACK_APP_TOKEN: expected an app-level token (xapp-…, Basic Information → App-Level " +
        "Tokens, scope connections:write), not a bot or user token",
    );
  }
  if (slack.mode === "socket") {
    if (slack.botToken === undefined) {
      problems.push("SLACK_BOT_TOKEN: required for Slack Socket Mode (it posts the messages)");
    }
    if (slack.appToken === undefined) {
      problems.push(
        "SLACK_APP_TOKEN: required when FLOWGATE_SLACK_MODE=socket (an app-level token with " +
          "connections:write)",
      );
    }
    if (settings.onDeploy) {
      problems.push(
        "FLOWGATE_SLACK_MODE: Socket Mode needs a long-lived process and Deno Deploy runs " +
          "Flowgate only while it answers requests; unset SLACK_APP_TOKEN or set " +
          "FLOWGATE_SLACK_MODE=http to receive Slack on POST /slack/events",
      );
    }
  } else if (slack.botToken !== undefined && slack.signingSecret === undefined) {
    problems.push(
      "SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN is set, unless Slack uses Socket Mode " +
        "(SLACK_APP_TOKEN)",
    );
  }
  if (telegram.mode === "polling") {
    if (telegram.botToken === undefined) {
      problems.push("TELEGRAM_BOT_TOKEN: required when FLOWGATE_TELEGRAM_MODE=polling");
    }
    if (settings.onDeploy) {
      problems.push(
        "FLOWGATE_TELEGRAM_MODE: long polling needs a long-lived process and Deno Deploy runs " +
          "Flowgate only while it answers requests; use FLOWGATE_TELEGRAM_MODE=webhook there",
      );
    }
  }
  return problems;
}

function splitList(raw: string): string[] {
  return raw.split(",").map((part) => part.trim()).filter((part) => part.length > 0);
}

function isCidrOrAddress(entry: string): boolean {
  if (entry.includes("/")) return ipaddr.isValidCIDR(entry);
  return ipaddr.isValid(entry);
}

function redactUrl(raw: string): string {
  return raw.replace(/\/\/[^@/]*@/, "//[redacted]@");
}

/** The password in an `smtp://user:password@host` URL, decoded, if any. */
function smtpPassword(smtpUrl: string | undefined): string | undefined {
  if (smtpUrl === undefined) return undefined;
  try {
    const password = new URL(smtpUrl).password;
    return password === "" ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}
