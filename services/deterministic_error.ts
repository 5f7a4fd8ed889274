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
 * Everything else, a `ConflictError` (a lost race) and Deno KV's own errors included, is transient.
 */
export function isDeterministicError(error: unknown): boolean {
  if (error instanceof ConflictError) return false;
  return error instanceof RangeError || error instanceof TypeError ||
    error instanceof SyntaxError || error instanceof ReferenceError ||
    error instanceof NotFoundError;
}

/** `Name: message` of an error, for run errors and logs. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
