/**
 * The errors of workflow sources (YAML, MISP JSON, blueprints): one that cannot be read, and one
 * past an input limit (size, node count, nesting). Both are `SyntaxError`s, so the HTTP layer
 * answers them with a 400 naming the problem.
 *
 * @module
 */

/** Where a workflow source is wrong: line and column (1-based) when known, node and field. */
export interface WorkflowSyntaxErrorOptions extends ErrorOptions {
  line?: number;
  column?: number;
  node?: string;
  field?: string;
}

/** A workflow source (YAML, MISP JSON, blueprint) that cannot be read, with the place it fails. */
export class WorkflowSyntaxError extends SyntaxError {
  /** 1-based line of the offending text, when the source has lines. */
  readonly line?: number;
  /** 1-based column of the offending text, when the source has lines. */
  readonly column?: number;
  /** Id of the node the error is about. */
  readonly node?: string;
  /** Field (key) the error is about, e.g. `then` or `params.scope`. */
  readonly field?: string;

  /** Creates the error; `options` carries the place (line, column, node, field) and the cause. */
  constructor(message: string, options: WorkflowSyntaxErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "WorkflowSyntaxError";
    this.line = options.line;
    this.column = options.column;
    this.node = options.node;
    this.field = options.field;
  }
}

/** The limit a workflow source went past, and by how much when known. */
export interface WorkflowLimitErrorOptions extends WorkflowSyntaxErrorOptions {
  /** The limit (bytes, nodes or nesting levels). */
  limit: number;
  /** What the source had, when it was measured. */
  actual?: number;
}

/**
 * A workflow source past one of the input limits of `engine/limits.ts` (`MAX_WORKFLOW_BYTES`,
 * `MAX_NODES`, `MAX_DATA_DEPTH`); the message names the limit.
 */
export class WorkflowLimitError extends WorkflowSyntaxError {
  /** The limit the source went past. */
  readonly limit: number;
  /** What the source had, when it was measured. */
  readonly actual?: number;

  /** Creates the error; `options.limit` is the limit, `options.actual` the measured value. */
  constructor(message: string, options: WorkflowLimitErrorOptions) {
    super(message, options);
    this.name = "WorkflowLimitError";
    this.limit = options.limit;
    this.actual = options.actual;
  }
}
