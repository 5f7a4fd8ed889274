/**
 * Telegram long polling: grammY's `bot.start()` deletes the webhook (Telegram refuses
 * `getUpdates` while one is set) and loops on `getUpdates`, retrying network errors and 5xx
 * itself. What it gives up on (the token refused, another process polling the same bot, the
 * start-up calls failing) ends `bot.start()`; this supervisor logs why, without the token, and
 * starts it again after a doubling pause, except for a refused token, which no retry fixes.
 *
 * @module
 */

import { type Bot, GrammyError, HttpError } from "grammy";
import { log } from "../engine/log.ts";
import { TELEGRAM_ALLOWED_UPDATES } from "../services/config.ts";
import type { RetryPauses } from "./core.ts";
import { createRetryBackoff } from "./retry_backoff.ts";

/** Pauses between restarts of the polling loop: the first, doubled up to the last. */
export const TELEGRAM_POLLING_RETRY_MS: RetryPauses = { first: 1_000, max: 60_000 };

/** Where long polling stands. */
export type TelegramPollingState = "stopped" | "polling" | "retrying" | "failed";

/** A supervised long-polling loop over one grammY bot. */
export interface TelegramPolling {
  /** Starts polling in the background; restarts it until `stop`. */
  start(): void;
  /** Stops polling; resolves once the last `getUpdates` is done and the handlers finished. */
  stop(): Promise<void>;
  state(): TelegramPollingState;
}

/** Supervises `bot.start()`; nothing is polled before `start`. */
export function createTelegramPolling(
  bot: Bot,
  options: { retryMs?: RetryPauses } = {},
): TelegramPolling {
  const retry = options.retryMs ?? TELEGRAM_POLLING_RETRY_MS;
  let state: TelegramPollingState = "stopped";
  let stopping = false;
  let running: Promise<void> | undefined;
  const backoff = createRetryBackoff(retry);

  const supervise = async () => {
    backoff.reset();
    while (!stopping) {
      state = "polling";
      try {
        await bot.start({
          "allowed_updates": [...TELEGRAM_ALLOWED_UPDATES],
          onStart: () => {
            backoff.reset();
            log.info("Telegram long polling started (webhook deleted)");
          },
        });
        // `bot.start()` returns once `bot.stop()` ended the loop.
        if (stopping) break;
      } catch (error) {
        if (stopping) break;
        if (error instanceof GrammyError && error.error_code === 401) {
          state = "failed";
          log.error("Telegram refused the bot token: long polling stopped", {
            description: error.description,
            fix: "check TELEGRAM_BOT_TOKEN, then restart Flowgate",
          });
          return;
        }
        state = "retrying";
        log.warn("Telegram long polling stopped; restarting", {
          ...pollingErrorFields(error),
          retry_in_ms: backoff.delayMs(),
        });
        await backoff.pause();
      }
    }
    state = "stopped";
  };

  return {
    start() {
      if (running) return;
      stopping = false;
      running = supervise().catch((error) => {
        state = "failed";
        log.error("Telegram long polling supervisor stopped", pollingErrorFields(error));
      });
    },
    async stop() {
      if (!running) return;
      stopping = true;
      backoff.interrupt();
      if (bot.isRunning()) {
        // Confirms the updates handled so far with one last `getUpdates`; it may fail offline.
        await bot.stop().catch((error) => {
          log.warn("Telegram did not confirm the last updates on stop", pollingErrorFields(error));
        });
      }
      await running;
      running = undefined;
    },
    state: () => state,
  };
}

/** What to log of a polling failure: Telegram's answer or the network error, never the URL. */
function pollingErrorFields(error: unknown): Record<string, unknown> {
  if (error instanceof GrammyError) {
    return { method: error.method, "error_code": error.error_code, description: error.description };
  }
  if (error instanceof HttpError) {
    // grammY's message names the method only; the cause may carry the URL with the token.
    return { error: error.message };
  }
  return { error: error instanceof Error ? error.message : String(error) };
}
