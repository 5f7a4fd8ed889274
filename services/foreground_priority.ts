/**
 * Requests first, queued runs after. MISP waits on every call it makes to Flowgate: a webhook
 * module holds MISP's worker until its 202, a `/query` holds the operation it may block. The
 * runs those webhooks queued are owed too, but nobody waits on them to the millisecond. Both
 * share one JavaScript thread and one store thread, and the KV queue hands out up to 100
 * messages at once, so during a burst (a feed sync fires a webhook per attribute) the queue's
 * runs cut the rate of acknowledgements by a third or more.
 *
 * So while requests are being handled, a queued message waits until they have been quiet for
 * `quietMs`. Two bounds keep the queue going and its lag within seconds:
 * - the wait: a message that waited `maxWaitMs` is due, and due messages run one at a time, so
 *   the queue never stops under a load that never pauses (or behind a request that never ends)
 *   and yet does not take the threads back all at once; one due for `maxWaitMs` more runs
 *   anyway, so a slow run (an action waiting on a slow receiver) holds no other back for long;
 * - the backlog: once this process has more than `maxBacklog` intakes accepted and not run, the
 *   queue runs at once, sharing the threads as it did before, so a load that never pauses is
 *   acknowledged no faster than it can be run and the backlog stops growing there.
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

/** Ends a turn given by `ForegroundPriority.turn`; call it once the queued work is done. */
export type EndTurn = () => void;

/** A queued message waiting for its turn. */
interface Waiter {
  resolve: (end: EndTurn) => void;
  bound: ReturnType<typeof setTimeout>;
}

/** Counts the requests being handled and gives queued work its turns around them. */
export class ForegroundPriority {
  readonly #options: ForegroundPriorityOptions;
  #requests = 0;
  #waiting = new Set<Waiter>();
  /** Messages that waited `maxWaitMs`, oldest first: they run one at a time. */
  #due: Waiter[] = [];
  #dueRunning = false;
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
      if (this.#requests === 0) this.#startAll();
    }, this.#options.quietMs);
  }

  /**
   * Resolves when a queued message may run, with the function to call once it is done: at once
   * when no request is under way or the backlog is past its bound; otherwise once the requests
   * have been quiet for `quietMs`, or, after waiting `maxWaitMs`, when the message before it
   * that waited as long is done, or after twice `maxWaitMs` at the latest.
   */
  turn(): Promise<EndTurn> {
    if (this.#options.backlog() > this.#options.maxBacklog) {
      // Behind: the waiting messages, older than this one, run too.
      this.#startAll();
      return Promise.resolve(NOTHING_TO_END);
    }
    if (this.#requests === 0 && this.#quietTimer === undefined) {
      return Promise.resolve(NOTHING_TO_END);
    }
    return new Promise<EndTurn>((resolve) => {
      const waiter: Waiter = {
        resolve,
        bound: setTimeout(() => {
          this.#due.push(waiter);
          // Due for as long again, it runs whatever runs already (a due message may be slow).
          waiter.bound = setTimeout(
            () => this.#start(waiter, NOTHING_TO_END),
            this.#options.maxWaitMs,
          );
          this.#startDue();
        }, this.#options.maxWaitMs),
      };
      this.#waiting.add(waiter);
    });
  }

  /** Lets `waiter` run, its turn ended by `end`. */
  #start(waiter: Waiter, end: EndTurn): void {
    if (!this.#waiting.delete(waiter)) return;
    clearTimeout(waiter.bound);
    const due = this.#due.indexOf(waiter);
    if (due >= 0) this.#due.splice(due, 1);
    waiter.resolve(end);
  }

  /** Lets every waiting message run. */
  #startAll(): void {
    for (const waiter of [...this.#waiting]) this.#start(waiter, NOTHING_TO_END);
  }

  /** Starts the oldest due message, unless one is running. */
  #startDue(): void {
    if (this.#dueRunning) return;
    const next = this.#due[0];
    if (next === undefined) return;
    this.#dueRunning = true;
    this.#start(next, this.#endDue());
  }

  /** The end of a due message's turn: the next due one starts. */
  #endDue(): EndTurn {
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#dueRunning = false;
      this.#startDue();
    };
  }
}

/** The end of a turn that holds nothing up. */
const NOTHING_TO_END: EndTurn = () => {};

/**
 * The priority of one server: queued work waits for 20 ms without requests, after 2 s runs one
 * message at a time and after 4 s regardless, while fewer than 5,000 intakes are owed (a few
 * seconds of runs). A burst of 3,000 webhooks is acknowledged at the rate of acknowledgements
 * alone, then run.
 */
export function createForegroundPriority(backlog: () => number): ForegroundPriority {
  return new ForegroundPriority({ quietMs: 20, maxWaitMs: 2_000, maxBacklog: 5_000, backlog });
}
