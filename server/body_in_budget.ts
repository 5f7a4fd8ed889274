/**
 * Reading a request body under a byte budget of bodies held in memory: the declared length is
 * taken before the first byte is read, so the bodies past the budget wait in the kernel's socket
 * buffers, not in the heap; a slow body soon keeps only what it has received.
 *
 * @module
 */

import type { BudgetRelease, ByteBudget } from "../services/byte_budget.ts";
import { BodyTooLargeError, declaredLength, readBodyBytes, type ReadBodyOptions } from "./body.ts";

/**
 * How long a body may take before it keeps only the bytes it has sent: a sender that slows or
 * stalls must not hold the budget the other bodies wait for, and those behind a row of stalled
 * senders wait this long for each. On loopback or a LAN a 10,000-attribute event (4.6 MB) is in
 * within a fraction of it; a slower link reads on past it, counted by what it sent.
 */
export const SLOW_BODY_MS = 100;

/** Options of `readBodyInBudget`. */
export interface BodyInBudgetOptions {
  /** The longest wait for the budget from now, in milliseconds (asked when the wait starts). */
  waitLeft: () => number;
  /** Where the budget's release goes, for the caller to call once the body is no longer held. */
  releases: (() => void)[];
  /** Default `SLOW_BODY_MS`. */
  slowBodyMs?: number;
  /**
   * Most a single body takes (default: all of the budget). Below the whole budget, a body cut to
   * the few bytes it sent no longer keeps the largest ones waiting for it to end.
   */
  maxTaken?: number;
  /** Passed to `readBodyBytes`: true for a request from the network. */
  releaseChunks?: boolean;
}

/**
 * Reads a request body whole (`readBodyBytes`) holding its size in `budget` until the caller
 * releases it. A declared `Content-Length` is taken before the read (at most `maxTaken`), and cut
 * to the bytes received if the read passes `slowBodyMs`; a body of unknown length is read first and then takes
 * its size. A declared length over the cap is refused before anything is taken or read.
 *
 * @throws {BodyTooLargeError} over the cap
 * @throws {BodyTimeoutError} when the body stalls or takes too long (see `readBodyBytes`)
 * @throws {BudgetWaitTimeoutError} when the budget is not free within `waitLeft()`
 */
export async function readBodyInBudget(
  request: Request,
  limits: ReadBodyOptions,
  budget: ByteBudget,
  options: BodyInBudgetOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = declaredLength(request.headers);
  if (declared === undefined) {
    const bytes = await readBodyBytes(request, limits, { releaseChunks: options.releaseChunks });
    options.releases.push(await budget.acquire(bytes.length, options.waitLeft()));
    return bytes;
  }
  if (declared > limits.maxBytes) throw new BodyTooLargeError(limits);
  const taken = Math.min(declared, options.maxTaken ?? declared);
  const held: BudgetRelease = await budget.acquire(taken, options.waitLeft());
  options.releases.push(held);
  let received = 0;
  const slow = setTimeout(() => held.shrinkTo(received), options.slowBodyMs ?? SLOW_BODY_MS);
  try {
    return await readBodyBytes(request, limits, {
      onProgress: (bytesRead) => received = bytesRead,
      releaseChunks: options.releaseChunks,
    });
  } finally {
    clearTimeout(slow);
  }
}
