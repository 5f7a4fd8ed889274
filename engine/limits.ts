/**
 * Every engine limit and default in one place.
 *
 * @module
 */

/** Deepest graph walk (edges on one path) before the walker refuses to go on. */
export const MAX_WALK_DEPTH = 1_000;

/** Most node executions in one run (a node reached by k paths counts k times). */
export const MAX_NODE_EXECUTIONS = 10_000;

/** Longest user regex source accepted in a hash-path condition. */
export const MAX_REGEX_LENGTH = 1_024;

/** Most nodes in one workflow. */
export const MAX_NODES = 500;

/** Largest workflow source (YAML or MISP JSON) accepted, in bytes. */
export const MAX_WORKFLOW_BYTES = 1_048_576;

/** Re-entrancy guard: deepest nesting of runs started from inside another run. */
export const MAX_RUN_NESTING = 8;

/** Largest rendered template, in characters. */
export const MAX_TEMPLATE_OUTPUT = 1_048_576;
