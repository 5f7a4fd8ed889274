/**
 * Packs set mutations into as few atomic commits as KV's limits allow (mutations, bytes, key
 * bytes), keeping each unit whole and the units in order, so a summary written as the last unit
 * of a run lands in the last commit that touches the run.
 *
 * @module
 */

import { COMMIT_BUDGET_BYTES, COMMIT_BUDGET_KEY_BYTES, MAX_COMMIT_MUTATIONS } from "./keys.ts";
import { jsonByteLength } from "./chunks.ts";

/** One `set` of a planned commit. */
export interface PlannedSet {
  key: Deno.KvKey;
  value: unknown;
  /** Milliseconds until KV may delete the key. */
  expireIn?: number;
}

/** Mutations that must land in the same commit (a run's summary and its index entries). */
export type CommitUnit = PlannedSet[];

const encoder = new TextEncoder();

/** The approximate serialized size of a key, as KV counts it against the key limits. */
export function estimateKeyBytes(key: Deno.KvKey): number {
  let bytes = 0;
  for (const part of key) {
    if (typeof part === "string") bytes += utf8Length(part) + 2;
    else if (part instanceof Uint8Array) bytes += part.length + 2;
    else bytes += 10;
  }
  return bytes;
}

/** The UTF-8 length of `text`; ASCII (every key Flowgate writes, nearly) is counted, not encoded. */
function utf8Length(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return encoder.encode(text).length;
  }
  return text.length;
}

/** The approximate serialized size of a value: exact for bytes, JSON length plus slack otherwise. */
export function estimateValueBytes(value: unknown): number {
  if (value instanceof Uint8Array) return value.length;
  return jsonByteLength(value) + 16;
}

/**
 * Splits `units` into commits: each commit stays under the mutation, byte and key-byte budgets,
 * no unit is split, and the order of units is kept.
 */
export function planCommits(units: CommitUnit[]): PlannedSet[][] {
  const commits: PlannedSet[][] = [];
  let current: PlannedSet[] = [];
  let bytes = 0;
  let keyBytes = 0;
  for (const unit of units) {
    let unitKeyBytes = 0;
    let unitBytes = 0;
    for (const set of unit) {
      const keySize = estimateKeyBytes(set.key);
      unitKeyBytes += keySize;
      unitBytes += keySize + estimateValueBytes(set.value);
    }
    const fits = current.length + unit.length <= MAX_COMMIT_MUTATIONS &&
      bytes + unitBytes <= COMMIT_BUDGET_BYTES &&
      keyBytes + unitKeyBytes <= COMMIT_BUDGET_KEY_BYTES;
    if (!fits && current.length > 0) {
      commits.push(current);
      current = [];
      bytes = 0;
      keyBytes = 0;
    }
    current.push(...unit);
    bytes += unitBytes;
    keyBytes += unitKeyBytes;
  }
  if (current.length > 0) commits.push(current);
  return commits;
}

/** Commits the planned sets in order, one atomic operation per planned commit. */
export async function commitPlanned(kv: Deno.Kv, commits: PlannedSet[][]): Promise<void> {
  for (const sets of commits) {
    const op = kv.atomic();
    for (const set of sets) {
      op.set(
        set.key,
        set.value,
        set.expireIn === undefined ? undefined : { expireIn: set.expireIn },
      );
    }
    await op.commit();
  }
}
