/**
 * Which errors of queue work are deterministic (the same input fails the same way every time, so
 * a redelivery would only fail again) and which are transient (the store was busy or closed, a
 * commit lost a race: a redelivery may succeed).
 *
 * @module
 */

import { ConflictError, NotFoundError } from "../store/errors.ts";

/**
 * True for errors a retry cannot fix: the built-in `RangeError`, `TypeError`, `SyntaxError` and
 * `ReferenceError` (and their subclasses: Deno KV's "value too large" is a `TypeError`, our
 * limits throw `RangeError`, our parse errors subclass `SyntaxError`), and `NotFoundError`.
 * Everything else, a `ConflictError` (a lost race) and Deno KV's own errors included, is transient;
 * so is the store going away under the work (see `isStoreGoneError`), even as a `TypeError`.
 */
export function isDeterministicError(error: unknown): boolean {
  if (error instanceof ConflictError || isStoreGoneError(error)) return false;
  return error instanceof RangeError || error instanceof TypeError ||
    error instanceof SyntaxError || error instanceof ReferenceError ||
    error instanceof NotFoundError;
}

/** Deno KV's message for an operation in flight when the KV is closed (a `TypeError`). */
const DATABASE_CLOSED = "Database is closed";

/** How deep `isStoreGoneError` follows `cause` (a chain may loop). */
const MAX_CAUSE_DEPTH = 8;

/**
 * True when the error, or one in its `cause` chain, means the store went away (the process is
 * shutting down): Deno KV's "Database is closed." (`TypeError`) for an operation in flight at
 * `kv.close()`, `BadResource` for one begun after it, `Interrupted`. The work itself is fine: its
 * message must be delivered again, never recorded as a failure.
 */
function isStoreGoneError(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < MAX_CAUSE_DEPTH; depth++) {
    if (
      cause instanceof Deno.errors.BadResource || cause instanceof Deno.errors.Interrupted ||
      (cause instanceof TypeError && cause.message.startsWith(DATABASE_CLOSED))
    ) return true;
    cause = cause.cause;
  }
  return false;
}

/** `Name: message` of an error, for run errors and logs. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
