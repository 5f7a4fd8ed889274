/**
 * Shapes what logic modules observe for traces: long lists and strings are cut so a trace of a
 * 100,000-attribute event stays small enough for storage and chat.
 *
 * @module
 */

/** Most list items kept in an observed value. */
const MAX_OBSERVED_ITEMS = 20;

/** Longest observed string, in characters. */
const MAX_OBSERVED_CHARS = 200;

/** `value` cut for a trace: lists keep their first items plus a count of the rest. */
export function observable(value: unknown): unknown {
  if (typeof value === "string") {
    return value.length > MAX_OBSERVED_CHARS ? `${value.slice(0, MAX_OBSERVED_CHARS)}…` : value;
  }
  if (Array.isArray(value)) {
    const head = value.slice(0, MAX_OBSERVED_ITEMS).map(scalarOrType);
    if (value.length > MAX_OBSERVED_ITEMS) {
      head.push(`… ${value.length - MAX_OBSERVED_ITEMS} more`);
    }
    return head;
  }
  return scalarOrType(value);
}

function scalarOrType(value: unknown): unknown {
  if (value === null || typeof value !== "object") {
    return typeof value === "string" ? observable(value) : value;
  }
  return Array.isArray(value) ? `[list of ${value.length}]` : "[object]";
}
