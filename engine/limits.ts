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

/** Compiled regexes (and refused patterns) kept in memory, oldest evicted first. */
export const REGEX_CACHE_SIZE = 512;

/** Parsed hash paths kept in memory, oldest evicted first. */
export const HASH_PATH_CACHE_SIZE = 1_024;

/** Most nodes in one workflow. */
export const MAX_NODES = 500;

/** Largest workflow source (YAML or MISP JSON) accepted, in bytes. */
export const MAX_WORKFLOW_BYTES = 1_048_576;

/**
 * Deepest nesting of objects and lists accepted in MISP data (trigger payloads) and in workflow
 * sources. Real MISP events nest about ten levels; the cap keeps every recursive walk (cloning,
 * serialising, storing) far from the stack limit.
 */
export const MAX_DATA_DEPTH = 512;

/** Re-entrancy guard: deepest nesting of runs started from inside another run. */
export const MAX_RUN_NESTING = 8;

/** Largest rendered template, in characters. */
export const MAX_TEMPLATE_OUTPUT = 1_048_576;

/** Most loop iterations one template render may run (all loops together), against runaway nesting. */
export const MAX_TEMPLATE_ITERATIONS = 200_000;

/**
 * Most characters (and list slots) the filters of one template render may build in total. Every
 * single string a filter or `~`/`+` builds is also capped at `MAX_TEMPLATE_OUTPUT`; this total
 * bounds what many such strings kept in variables can hold at once.
 */
export const MAX_TEMPLATE_BUILT = 33_554_432;

/**
 * Largest list or dict a template may build (literals, `map`, `batch`/`slice` padding), measured
 * as the characters it would serialise to. Stops `{% set a = [a, a] %}` from doubling into a value
 * whose printing or comparison would take gigabytes.
 */
export const MAX_TEMPLATE_VALUE_SIZE = 8_388_608;

/** Most items `range()` may return, and most rows or padding items `batch` and `slice` may add. */
export const MAX_TEMPLATE_LIST_ITEMS = 200_000;

/**
 * Longest one template render may take, in milliseconds, even with no deadline given; a render
 * with a deadline (the verdict's) stops at whichever comes first.
 */
export const MAX_TEMPLATE_RENDER_MS = 1_000;

/** Compiled templates kept in memory (per escape mode and source), oldest evicted first. */
export const TEMPLATE_CACHE_ENTRIES = 512;

/** Default time budget of one outbound call (all redirects included), in milliseconds. */
export const OUTBOUND_TIMEOUT_MS = 10_000;

/** Default cap on an outbound answer's body; a longer answer is cut and flagged. */
export const OUTBOUND_MAX_RESPONSE_BYTES = 1_048_576;

/** Most redirects one outbound call follows, each hop checked again. */
export const OUTBOUND_MAX_REDIRECTS = 5;

/** Time budget for connecting to and talking with the SMTP server, in milliseconds. */
export const SMTP_TIMEOUT_MS = 15_000;
