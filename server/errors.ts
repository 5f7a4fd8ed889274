/**
 * The server's own error class; `app.onError` maps it (with the store's and the engine's errors)
 * to HTTP statuses.
 *
 * @module
 */

/** A request the API refuses with a list of problems (validation): 400 with `problems`. */
export class RequestProblemsError extends SyntaxError {
  /** Every problem found, each naming where it is. */
  readonly problems: unknown[];
  /** Warnings found alongside. */
  readonly warnings: unknown[];

  /** Creates the error; `message` sums the problems up. */
  constructor(message: string, problems: unknown[], warnings: unknown[] = []) {
    super(message);
    this.name = "RequestProblemsError";
    this.problems = problems;
    this.warnings = warnings;
  }
}
