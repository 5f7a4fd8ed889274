/**
 * Shutdown of the KV queue work: the listener's handler is wrapped so that the calls in flight are
 * counted, a message delivered once shutdown has begun is not run, and the shutdown waits (within
 * a bound) for the calls in flight before the KV closes, so no queue run meets a closed store.
 *
 * A message delivered during shutdown is held, not failed: its handler call never settles, so the
 * KV keeps it leased until the KV closes, and the next start delivers it again (Deno KV's lease
 * cleanup requeues it with the first delay of its backoff schedule). Throwing instead would also
 * bring it back, but each throw uses up one entry of the message's backoff schedule (the KV
 * stores it at `keysIfUndelivered`, a dead letter, once they are spent), the KV delivers it again
 * one second later to be thrown again while the shutdown lasts, and Deno prints every throw with
 * its stack on stderr.
 *
 * @module
 */

import { log } from "../engine/log.ts";

/**
 * Longest wait of a shutdown (SIGTERM, SIGINT) for the queue work in flight before the KV closes
 * anyway. MISP's operators and process managers expect SIGTERM to finish promptly; what is still
 * running then is delivered again on the next start and stored once, idempotently.
 */
export const SHUTDOWN_DRAIN_TIMEOUT_MS = 10_000;

/** A queue handler whose work a shutdown can wait for. */
export interface QueueDrain {
  /** The handler to give `kv.listenQueue`: the wrapped one, counted, until shutdown begins. */
  handler: (message: unknown) => Promise<void>;
  /** How many handler calls are running now. */
  readonly inFlight: number;
  /**
   * Begins the shutdown: a message delivered from now on is held for the next start, not run.
   * Resolves true once the calls in flight have ended, or false when `timeoutMs` passed first
   * (logged with the number still running; the KV then closes under them).
   */
  drain(timeoutMs: number): Promise<boolean>;
}

/** Wraps `handler` (the whole `kv.listenQueue` handler) for a bounded shutdown. */
export function createQueueDrain(handler: (message: unknown) => Promise<void>): QueueDrain {
  let running = 0;
  let held = 0;
  let closing = false;
  let idle: PromiseWithResolvers<void> | undefined;
  // Settles never: the KV keeps the message leased until it closes, then delivers it again.
  const holdForNextStart = new Promise<void>(() => {});

  return {
    async handler(message: unknown): Promise<void> {
      if (closing) {
        held++;
        return await holdForNextStart;
      }
      running++;
      try {
        await handler(message);
      } finally {
        running--;
        if (running === 0) idle?.resolve();
      }
    },
    get inFlight() {
      return running;
    },
    async drain(timeoutMs: number): Promise<boolean> {
      closing = true;
      let drained = true;
      if (running > 0) {
        idle ??= Promise.withResolvers<void>();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const bound = new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        });
        drained = await Promise.race([idle.promise.then(() => true), bound]);
        clearTimeout(timer);
      }
      if (!drained) {
        log.warn(
          "Shutdown: queue work still running after the drain bound; closing the KV under it, " +
            "its messages are delivered again on the next start",
          { still_running: running, timeout_ms: timeoutMs },
        );
      }
      if (held > 0) {
        log.info("Shutdown: queue messages delivered meanwhile are kept for the next start", {
          held,
        });
      }
      return drained;
    },
  };
}
