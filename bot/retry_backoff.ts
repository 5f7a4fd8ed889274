/**
 * The doubling pause between reconnections that Slack Socket Mode and Telegram long polling share:
 * each `pause()` waits the current delay and doubles it up to `max`, `reset()` goes back to the
 * first, and `interrupt()` ends a pause at once so that `stop()` does not wait it out.
 *
 * @module
 */

import type { RetryPauses } from "./core.ts";

/** A doubling, interruptible pause between reconnection attempts. */
export interface RetryBackoff {
  /** The pause the next `pause()` waits, in milliseconds (for logs). */
  delayMs(): number;
  /** Waits the current delay (or until `interrupt`), then doubles it up to the maximum. */
  pause(): Promise<void>;
  /** Goes back to the first delay, after a connection that held. */
  reset(): void;
  /** Ends the pause under way, if any, at once. */
  interrupt(): void;
}

/** A backoff starting at `pauses.first`, doubled up to `pauses.max`. */
export function createRetryBackoff(pauses: RetryPauses): RetryBackoff {
  let delay = pauses.first;
  let pending: { timer: ReturnType<typeof setTimeout>; done: () => void } | undefined;
  return {
    delayMs: () => delay,
    async pause() {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(pending?.timer);
          pending = undefined;
          resolve();
        };
        pending = { timer: setTimeout(done, delay), done };
      });
      delay = Math.min(delay * 2, pauses.max);
    },
    reset() {
      delay = pauses.first;
    },
    interrupt() {
      pending?.done();
    },
  };
}
