/**
 * `deno task telegram:webhook <public base URL>`: registers `<url>/telegram` as the bot's webhook
 * with Telegram (`setWebhook` with `TELEGRAM_SECRET_TOKEN`), for message and callback query
 * updates.
 *
 * @module
 */

import { Api } from "grammy";
import {
  loadConfig,
  TELEGRAM_ALLOWED_UPDATES,
  TELEGRAM_SECRET_PATTERN,
} from "../services/config.ts";
import { parseArgs, printLine, runCli, UsageError } from "./cli_support.ts";

const USAGE = "Usage: deno task telegram:webhook <public base URL, https> [--drop-pending]";

const HELP = `${USAGE}

Registers <public base URL>/telegram as the bot's webhook with Telegram (setWebhook, with the
secret token), for message and callback query updates.

Options:
  --drop-pending  drop the updates Telegram queued while no webhook answered
  --help, -h      this help

Environment:
  TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET_TOKEN (required), TELEGRAM_API_ROOT`;
/** Options of `registerTelegramWebhook`. */
export interface RegisterWebhookOptions {
  botToken: string;
  secretToken: string;
  apiRoot?: string;
  /** Drop updates Telegram queued while no webhook answered. */
  dropPending?: boolean;
}

/**
 * Calls `setWebhook` for `<publicUrl>/telegram` with the secret token; returns the webhook URL.
 *
 * @throws {UsageError} for a non-https URL or an invalid secret token.
 */
export async function registerTelegramWebhook(
  publicUrl: string,
  options: RegisterWebhookOptions,
): Promise<string> {
  let base: URL;
  try {
    base = new URL(publicUrl);
  } catch (error) {
    throw new UsageError(`Invalid public URL "${publicUrl}"`, { cause: error });
  }
  if (base.protocol !== "https:") {
    throw new UsageError(`Invalid public URL "${publicUrl}": Telegram only calls https webhooks`);
  }
  if (!TELEGRAM_SECRET_PATTERN.test(options.secretToken)) {
    throw new UsageError("Invalid TELEGRAM_SECRET_TOKEN: 1 to 256 of A-Z a-z 0-9 _ -");
  }
  const url = `${base.origin}${base.pathname.replace(/\/+$/, "")}/telegram`;
  const api = new Api(options.botToken, options.apiRoot ? { apiRoot: options.apiRoot } : {});
  await api.setWebhook(url, {
    "secret_token": options.secretToken,
    "allowed_updates": [...TELEGRAM_ALLOWED_UPDATES],
    ...(options.dropPending ? { "drop_pending_updates": true } : {}),
  });
  return url;
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args, { flags: ["drop-pending"], help: HELP });
  const [publicUrl, ...extra] = args.positional;
  if (publicUrl === undefined || extra.length > 0) throw new UsageError(USAGE);
  const telegram = loadConfig().telegram;
  if (!telegram) throw new UsageError("TELEGRAM_BOT_TOKEN is not set");
  if (telegram.mode === "polling") {
    throw new UsageError(
      "FLOWGATE_TELEGRAM_MODE=polling: Flowgate polls getUpdates and deletes any webhook; unset " +
        "it (or set it to webhook) before registering one",
    );
  }
  if (!telegram.secretToken) throw new UsageError("TELEGRAM_SECRET_TOKEN is not set");
  const url = await registerTelegramWebhook(publicUrl, {
    botToken: telegram.botToken,
    secretToken: telegram.secretToken,
    ...(telegram.apiRoot ? { apiRoot: telegram.apiRoot } : {}),
    dropPending: args.flags.has("drop-pending"),
  });
  printLine(`Telegram webhook set to ${url}`);
  return 0;
}

if (import.meta.main) await runCli(main);
