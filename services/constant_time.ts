/**
 * Secret comparison in constant time, for every surface that checks a token: the admin and hook
 * tokens, the console's CSRF token, Telegram's webhook secret.
 *
 * @module
 */

import { createHash } from "node:crypto";

/**
 * Compares two secrets in time independent of where they differ (SHA-256 of both, then XOR).
 * Hashed on the calling thread: `crypto.subtle` cost each webhook a tenth of a millisecond of
 * hand-over to its worker thread, a tenth of the server's time under a webhook burst.
 */
export function constantTimeEquals(presented: string, expected: string): Promise<boolean> {
  const left = createHash("sha256").update(presented, "utf8").digest();
  const right = createHash("sha256").update(expected, "utf8").digest();
  let difference = 0;
  for (let i = 0; i < left.length; i++) difference |= left[i]! ^ right[i]!;
  return Promise.resolve(difference === 0);
}
