/**
 * The store's error classes: the two failures callers catch and map to HTTP statuses.
 *
 * @module
 */

/** A write lost a race or broke a uniqueness rule (taken name, stale version); the API answers 409. */
export class ConflictError extends Error {
  /** Builds the error; pass `{ cause }` when another error led to it. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConflictError";
  }
}

/** The record asked for does not exist (or has expired); the API answers 404. */
export class NotFoundError extends Error {
  /** Builds the error; pass `{ cause }` when another error led to it. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NotFoundError";
  }
}
