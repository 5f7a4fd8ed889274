/**
 * A budget of bytes in flight: work that holds large data (a whole MISP event read, parsed and
 * decided on) takes its size from the budget first and waits, first come first served, while the
 * budget is spent. It queues rather than refuses, and a piece larger than the whole budget still
 * runs (alone), so every request gets its answer; only the memory they hold together is bounded.
 * A caller that cannot wait for ever (MISP gives up after 10 s, and then allows) bounds its wait.
 *
 * @module
 */

/** The wait for a byte budget passed its bound: the work never started. */
export class BudgetWaitTimeoutError extends Error {
  /** The bound that passed, in milliseconds. */
  readonly waitedMs: number;

  /** Creates the error for a wait of `waitedMs`. */
  constructor(waitedMs: number) {
    super(
      `Waited ${waitedMs} ms for other requests' data to be processed first; the server is ` +
        "overloaded with large requests",
    );
    this.name = "BudgetWaitTimeoutError";
    this.waitedMs = waitedMs;
  }
}

/**
 * Gives back what `ByteBudget.acquire` took: call it exactly once (later calls do nothing), when
 * the work no longer holds its data.
 */
export interface BudgetRelease {
  (): void;
  /**
   * Gives back all but `bytes` of what was taken now, keeping the rest until the release (never
   * takes more): for work that took an estimate and turned out to hold less.
   */
  shrinkTo(bytes: number): void;
}

/** A FIFO semaphore counted in bytes. */
export class ByteBudget {
  readonly #capacity: number;
  #inFlight = 0;
  #waiting: { bytes: number; admit: () => void }[] = [];

  /** A budget of `capacity` bytes (at least 1). */
  constructor(capacity: number) {
    if (!(capacity >= 1)) {
      throw new RangeError(`Cannot create a byte budget of ${capacity} bytes: give at least 1`);
    }
    this.#capacity = capacity;
  }

  /** Bytes taken by work under way. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Pieces of work waiting for their turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Waits until `bytes` (capped at the capacity) fit, then takes them. Resolves with the function
   * that gives them back.
   *
   * @throws {BudgetWaitTimeoutError} when `maxWaitMs` is given and passes first (nothing taken)
   */
  async acquire(bytes: number, maxWaitMs?: number): Promise<BudgetRelease> {
    const taken = Math.min(Math.max(0, bytes), this.#capacity);
    if (this.#waiting.length === 0 && this.#fits(taken)) {
      this.#inFlight += taken;
    } else {
      await new Promise<void>((admit, reject) => {
        const waiter = { bytes: taken, admit };
        this.#waiting.push(waiter);
        if (maxWaitMs === undefined) return;
        const timer = setTimeout(() => {
          const at = this.#waiting.indexOf(waiter);
          if (at < 0) return;
          this.#waiting.splice(at, 1);
          // A big waiter leaving may let smaller ones behind it in.
          this.#admitWaiting();
          reject(new BudgetWaitTimeoutError(maxWaitMs));
        }, maxWaitMs);
        waiter.admit = () => {
          clearTimeout(timer);
          admit();
        };
      });
    }
    let held = taken;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#inFlight -= held;
      this.#admitWaiting();
    };
    return Object.assign(release, {
      shrinkTo: (bytes: number) => {
        const keep = Math.max(0, Math.min(held, bytes));
        if (released || keep === held) return;
        this.#inFlight -= held - keep;
        held = keep;
        this.#admitWaiting();
      },
    });
  }

  #fits(bytes: number): boolean {
    return this.#inFlight === 0 || this.#inFlight + bytes <= this.#capacity;
  }

  #admitWaiting(): void {
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0]!.bytes)) {
      const next = this.#waiting.shift()!;
      this.#inFlight += next.bytes;
      next.admit();
    }
  }
}
