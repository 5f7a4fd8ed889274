/**
 * An in-memory sliding-window rate limiter keyed by client address, with bounded memory: at most
 * `maxKeys` addresses are tracked, the least recently seen forgotten first.
 *
 * @module
 */

/** Console sign-in attempts allowed per address and window. */
export const SIGN_IN_ATTEMPTS = 10;
/** The sign-in window: one minute. */
export const SIGN_IN_WINDOW_MS = 60_000;
/** Most addresses the sign-in limiter tracks at once. */
export const SIGN_IN_TRACKED_ADDRESSES = 10_000;

/** Options of a `SlidingWindowLimiter`. */
export interface SlidingWindowOptions {
  /** Attempts allowed per key within a window. */
  limit: number;
  /** The window, in milliseconds. */
  windowMs: number;
  /** Most keys tracked; the least recently seen is forgotten first. */
  maxKeys: number;
}

/** What `take` decided. */
export interface RateDecision {
  allowed: boolean;
  /** When refused: milliseconds until the oldest attempt in the window leaves it. */
  retryAfterMs: number;
}

/**
 * Counts attempts per key within a sliding window (a log of the last `limit` attempt times, so
 * memory is `limit` numbers per key) and refuses those over `limit`. Refused attempts are not
 * counted, so a client that waits `retryAfterMs` gets in again.
 */
export class SlidingWindowLimiter {
  readonly #options: SlidingWindowOptions;
  /** Attempt times per key, oldest first; the Map's order is least recently seen first. */
  readonly #attempts = new Map<string, number[]>();

  /** Creates a limiter. */
  constructor(options: SlidingWindowOptions) {
    this.#options = options;
  }

  /** How many keys are tracked now. */
  get size(): number {
    return this.#attempts.size;
  }

  /** Records an attempt by `key` at `now` if it is within the limit. */
  take(key: string, now: number): RateDecision {
    const { limit, windowMs, maxKeys } = this.#options;
    const times = (this.#attempts.get(key) ?? []).filter((time) => time > now - windowMs);
    // Re-inserted on every attempt, so the Map's first key is the least recently seen.
    this.#attempts.delete(key);
    if (times.length >= limit) {
      this.#attempts.set(key, times);
      return { allowed: false, retryAfterMs: Math.max(1, times[0]! + windowMs - now) };
    }
    times.push(now);
    this.#attempts.set(key, times);
    while (this.#attempts.size > maxKeys) {
      this.#attempts.delete(this.#attempts.keys().next().value!);
    }
    return { allowed: true, retryAfterMs: 0 };
  }
}
