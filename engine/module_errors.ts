/**
 * Errors modules throw so the walker and the queue can tell them apart.
 *
 * @module
 */

/**
 * A failure that may pass if tried again later (timeout, connection refused, 429, 5xx). The node
 * still fails now; a non-blocking action failing this way is retried from the queue.
 */
export class TransientError extends Error {
  /** Creates a transient error; pass the wire or remote error as `cause`. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TransientError";
  }
}

/** An integration a module needs is not configured (`MISP_URL`, `SMTP_URL`…). */
export class IntegrationMissingError extends Error {
  /** Names the missing setting: `new IntegrationMissingError("MISP_URL and MISP_API_KEY")`. */
  constructor(setting: string) {
    super(`This module needs ${setting} to be set`);
    this.name = "IntegrationMissingError";
  }
}
