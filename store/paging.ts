/**
 * Cursor paging over one key prefix, newest first, for the append-only logs (audit, dead letters).
 *
 * @module
 */

import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./keys.ts";
import type { Page } from "./types.ts";

/** Paging options every list function takes. */
export interface PageOptions {
  /** Page size, default 50, at most 500. */
  limit?: number;
  /** The `cursor` of the previous page. */
  cursor?: string;
}

/**
 * One page of the values under `prefix`, last key first; `keep` drops values (expired ones) without
 * ending the page early.
 */
export async function listPage<T>(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  options: PageOptions & { keep?: (value: T) => boolean },
): Promise<Page<T>> {
  const limit = Math.min(Math.max(1, options.limit ?? DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
  const entries = kv.list<T>({ prefix }, {
    reverse: true,
    ...(options.cursor ? { cursor: options.cursor } : {}),
    batchSize: Math.min(limit + 1, MAX_PAGE_SIZE),
  });
  const items: T[] = [];
  for await (const entry of entries) {
    if (options.keep && !options.keep(entry.value)) continue;
    items.push(entry.value);
    if (items.length === limit) return { items, cursor: entries.cursor };
  }
  return { items };
}
