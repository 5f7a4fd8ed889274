/**
 * The input limits every workflow codec applies before it does real work: source size, node
 * count and nesting depth, each refused with a `WorkflowLimitError` that names the limit.
 *
 * @module
 */

import { exceedsDataDepth } from "./data_depth.ts";
import { MAX_DATA_DEPTH, MAX_NODES, MAX_WORKFLOW_BYTES } from "./limits.ts";
import { WorkflowLimitError } from "./workflow_syntax_error.ts";

/** UTF-8 length of `text` in bytes, counted without encoding it. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        index++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Refuses a source text longer than `MAX_WORKFLOW_BYTES` (in UTF-8 bytes).
 *
 * @throws {WorkflowLimitError} naming the size and the limit.
 */
export function assertWorkflowSize(text: string): void {
  // A UTF-8 encoding is never shorter than the UTF-16 one: short texts need no counting.
  if (text.length * 3 <= MAX_WORKFLOW_BYTES) return;
  const bytes = utf8ByteLength(text);
  if (bytes <= MAX_WORKFLOW_BYTES) return;
  throw new WorkflowLimitError(
    `Workflow source too large: ${bytes} bytes, the limit is ${MAX_WORKFLOW_BYTES} bytes`,
    { limit: MAX_WORKFLOW_BYTES, actual: bytes },
  );
}

/**
 * Refuses a workflow with more than `MAX_NODES` nodes (the trigger node included).
 *
 * @throws {WorkflowLimitError} naming the count and the limit.
 */
export function assertNodeCount(workflow: string, count: number): void {
  if (count <= MAX_NODES) return;
  throw new WorkflowLimitError(
    `Workflow "${workflow}" has too many nodes: ${count}, the limit is ${MAX_NODES}`,
    { limit: MAX_NODES, actual: count, field: "nodes" },
  );
}

/** Where a nested value sits, for the error message. */
export interface NestingPlace {
  node?: string;
  field?: string;
}

/**
 * Refuses a value (a whole JSON document, a node's params) nested deeper than `MAX_DATA_DEPTH`.
 *
 * @throws {WorkflowLimitError} naming the place and the limit.
 */
export function assertWorkflowDepth(value: unknown, place: NestingPlace = {}): void {
  if (!exceedsDataDepth(value, MAX_DATA_DEPTH)) return;
  throw new WorkflowLimitError(`${describePlace(place)}${nestingMessage()}`, {
    limit: MAX_DATA_DEPTH,
    ...place,
  });
}

/** `nested deeper than the limit of 512 levels`, shared by every depth refusal. */
export function nestingMessage(): string {
  return `nested deeper than the limit of ${MAX_DATA_DEPTH} levels`;
}

function describePlace(place: NestingPlace): string {
  if (place.node !== undefined) {
    return `Node "${place.node}"${place.field ? `, field "${place.field}"` : ""}: `;
  }
  return place.field ? `Field "${place.field}": ` : "Workflow source is ";
}

/** True for the `RangeError` V8 throws when the stack overflows. */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}
