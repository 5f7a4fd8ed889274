/**
 * Requests first, queued runs after. MISP waits on every call it makes to Flowgate: a webhook
 * module holds MISP's worker until its 202, a `/query` holds the operation it may block. The
 * runs those webhooks queued are owed too, but nobody waits on them to the millisecond. Both
 * share one JavaScript thread and one store thread, and the KV queue hands out up to 100
 * messages at once, so during a burst (a feed sync fires a webhook per attribute) the queue's
 * runs cut the rate of acknowledgements by a third or more.
 *
 * So while requests are being handled, a queued message waits until they have been quiet for
 * `quietMs`. Two bounds keep the queue's lag within seconds:
 * - the backlog: once this process has more than `maxBacklog` intakes accepted and not run, the
 *   queue runs at once, sharing the threads as it did before, so a load that never pauses is
 *   acknowledged no faster than it can be run and the backlog stops growing there;
 * - the wait: a message waits `maxWaitMs` at most, so a request that never ends (a stalled
 *   sender) holds nothing back for longer.
 *
 * @module
 */

/** Options of `ForegroundPriority`. */
export interface ForegroundPriorityOptions {
  /** How long the requests must have been quiet before queued work runs, in milliseconds. */
  quietMs: number;
  /** Longest wait of a queued message for its turn, in milliseconds. */
  maxWaitMs: number;
  /** Intakes accepted and not run yet past which queued work no longer waits. */
  maxBacklog: number;
  /** Intakes accepted and not run yet (`Metrics.queuePending` of this process). */
  backlog: () => number;
}

/** Counts the requests being handled and lets queued work wait, within bounds, until they end. */
export class ForegroundPriority {
  readonly #options: ForegroundPriorityOptions;
  #requests = 0;
  #waiting = new Set<() => void>();
  #quietTimer: ReturnType<typeof setTimeout> | undefined;

  /** Starts with no request under way. */
  constructor(options: ForegroundPriorityOptions) {
    this.#options = options;
  }

  /** How many queued messages are waiting for their turn now. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** A request began to be handled; call `end` once when it is answered. */
  begin(): void {
    this.#requests++;
    if (this.#quietTimer !== undefined) clearTimeout(this.#quietTimer);
    this.#quietTimer = undefined;
  }

  /** A request begun with `begin` was answered. */
  end(): void {
    this.#requests = Math.max(0, this.#requests - 1);
    if (this.#requests > 0 || this.#waiting.size === 0) return;
    if (this.#quietTimer !== undefined) clearTimeout(this.#quietTimer);
    this.#quietTimer = setTimeout(() => {
      this.#quietTimer = undefined;
      if (this.#requests === 0) { for (const start of [...this.#waiting]) start(); }
    }, this.#options.quietMs);
  }

  /**
   * Resolves when a queued message may run: at once when no request is under way or the backlog
   * is past its bound, otherwise once the requests have been quiet for `quietMs`, or after
   * `maxWaitMs` at the latest.
   */
  turn(): Promise<void> {
    const quiet = this.#requests === 0 && this.#quietTimer === undefined;
    if (quiet || this.#options.backlog() > this.#options.maxBacklog) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const start = () => {
        clearTimeout(bound);
        this.#waiting.delete(start);
        resolve();
      };
      const bound = setTimeout(start, this.#options.maxWaitMs);
      this.#waiting.add(start);
    });
  }
}

/**
 * The priority of one server: queued work waits for 20 ms without requests, 2 s at most, while
 * fewer than 5,000 intakes are owed (about two seconds of runs). A burst of 3,000 webhooks is
 * acknowledged at the rate of acknowledgements alone, then run.
 */
export function createForegroundPriority(backlog: () => number): ForegroundPriority {
  return new ForegroundPriority({ quietMs: 20, maxWaitMs: 2_000, maxBacklog: 5_000, backlog });
}
