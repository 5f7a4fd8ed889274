/**
 * Requests first, queued runs after. MISP waits on every call it makes to Flowgate: a webhook
 * module holds MISP's worker until its 202, a `/query` holds the operation it may block. The
 * runs those webhooks queued are owed too, but nobody waits on them to the millisecond. Both
 * share one JavaScript thread and one store thread, so during a burst (a feed sync fires a
 * webhook per attribute) the queue's runs slowed every acknowledgement down by half.
 *
 * So a queued message waits for its turn: until no request is being handled and none came for
 * `quietMs`, and never longer than `maxWaitMs`. The bound keeps the queue going under a load
 * that never pauses (its runs then lag by at most that much and share the threads as before), and
 * keeps a request that never ends from holding the queue back.
 *
 * @module
 */

/** Options of `ForegroundPriority`. */
export interface ForegroundPriorityOptions {
  /** How long the requests must have been quiet before queued work runs, in milliseconds. */
  quietMs: number;
  /** Longest wait of queued work for its turn, in milliseconds. */
  maxWaitMs: number;
}

/** Counts the requests being handled and lets queued work wait until they are done. */
export class ForegroundPriority {
  readonly #options: ForegroundPriorityOptions;
  #active = 0;
  #waiting = new Set<() => void>();
  #quietTimer: ReturnType<typeof setTimeout> | undefined;

  /** Starts with no request under way. */
  constructor(options: ForegroundPriorityOptions) {
    this.#options = options;
  }

  /** How many queued calls are waiting for their turn now. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** A request began to be handled; call `end` once when it is answered. */
  begin(): void {
    this.#active++;
    if (this.#quietTimer !== undefined) clearTimeout(this.#quietTimer);
    this.#quietTimer = undefined;
  }

  /** A request begun with `begin` was answered. */
  end(): void {
    this.#active = Math.max(0, this.#active - 1);
    if (this.#active > 0 || this.#waiting.size === 0) return;
    if (this.#quietTimer !== undefined) clearTimeout(this.#quietTimer);
    const timer = setTimeout(() => {
      this.#quietTimer = undefined;
      if (this.#active === 0) this.#releaseAll();
    }, this.#options.quietMs);
    this.#quietTimer = timer;
  }

  /**
   * Resolves when queued work may run: at once when no request is under way, otherwise once the
   * requests have been quiet for `quietMs`, or after `maxWaitMs` at the latest.
   */
  turn(): Promise<void> {
    if (this.#active === 0 && this.#quietTimer === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const release = () => {
        clearTimeout(bound);
        this.#waiting.delete(release);
        resolve();
      };
      const bound = setTimeout(release, this.#options.maxWaitMs);
      this.#waiting.add(release);
    });
  }

  #releaseAll(): void {
    for (const release of [...this.#waiting]) release();
  }
}

/**
 * The priority of one server: queued work waits for requests quiet for 20 ms, at most 2 s. A
 * burst of 3,000 webhooks is acknowledged in about that time; a longer one gives the queue back
 * its share once the bound has passed, so runs never lag by more than that.
 */
export function createForegroundPriority(): ForegroundPriority {
  return new ForegroundPriority({ quietMs: 20, maxWaitMs: 2_000 });
}
