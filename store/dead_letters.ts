/**
 * Dead letters: work that failed for good, kept for `DEAD_LETTER_RETENTION_DAYS` so an operator
 * can look at it, retry it by hand or drop it.
 *
 * @module
 */

import { decodeTime, monotonicFactory } from "ulid";
import { NotFoundError } from "./errors.ts";
import { DAY_MS, DEAD_LETTER_RETENTION_DAYS, KEY_DEAD_LETTERS, QUEUE_BACKOFF_MS } from "./keys.ts";
import { listPage, type PageOptions } from "./paging.ts";
import type { DeadLetter, Page } from "./types.ts";

/** Ids that sort in append order even within one millisecond. */
const ulid = monotonicFactory();

/** What `addDeadLetter` records. */
export interface NewDeadLetter {
  kind: string;
  payload: unknown;
  error: string;
  attempts: number;
}

/** Records a dead letter and returns its id. */
export async function addDeadLetter(kv: Deno.Kv, letter: NewDeadLetter): Promise<string> {
  const id = ulid();
  const stored: DeadLetter = { id, at: new Date().toISOString(), ...letter };
  await kv.set([KEY_DEAD_LETTERS, id], stored, { expireIn: DEAD_LETTER_RETENTION_DAYS * DAY_MS });
  return id;
}

/**
 * The key a queue message names in `keysIfUndelivered` (with the intake's or job's ULID), so a
 * message the queue gives up on shows up among the dead letters.
 */
export function deadLetterKey(id: string): Deno.KvKey {
  return [KEY_DEAD_LETTERS, id];
}

/** Dead letters, newest first; raw undelivered queue messages appear with kind "queue". */
export async function listDeadLetters(
  kv: Deno.Kv,
  options: PageOptions = {},
): Promise<Page<DeadLetter>> {
  const page = await listPage<unknown>(kv, [KEY_DEAD_LETTERS], options);
  return { ...page, items: page.items.map(asDeadLetter) };
}

/** One dead letter with the KV entry it came from (for a checked delete), or null. */
export async function getDeadLetter(
  kv: Deno.Kv,
  id: string,
): Promise<{ letter: DeadLetter; entry: Deno.KvEntry<unknown> } | null> {
  const entry = await kv.get(deadLetterKey(id));
  if (entry.versionstamp === null) return null;
  return { letter: asDeadLetter(entry.value), entry: entry as Deno.KvEntry<unknown> };
}

/**
 * Deletes one dead letter.
 *
 * @throws {NotFoundError} when there is no dead letter with that id.
 */
export async function deleteDeadLetter(kv: Deno.Kv, id: string): Promise<void> {
  const entry = await kv.get([KEY_DEAD_LETTERS, id]);
  if (entry.versionstamp === null) {
    throw new NotFoundError(`Cannot delete dead letter "${id}": no such dead letter`);
  }
  await kv.atomic().check(entry).delete(entry.key).commit();
}

function asDeadLetter(value: unknown): DeadLetter {
  const letter = value as Partial<DeadLetter> | null;
  if (letter && typeof letter.id === "string" && typeof letter.kind === "string") {
    return letter as DeadLetter;
  }
  const message = value as { intake_id?: string; job_id?: string } | null;
  const id = message?.intake_id ?? message?.job_id ?? "";
  return {
    id,
    at: id ? new Date(decodeTime(id)).toISOString() : "",
    kind: "queue",
    payload: value,
    error: "The queue gave up delivering this message after every retry",
    attempts: QUEUE_BACKOFF_MS.length + 1,
  };
}

/** Dead letters counted at most by `countDeadLetters`; the count saturates there. */
export const MAX_COUNTED_DEAD_LETTERS = 10_000;

/** A count that stops at a limit. */
export interface BoundedCount {
  /** The entries counted, at most the limit. */
  count: number;
  /** True when there were more than `count`. */
  more: boolean;
}

/** Counts the dead letters by their keys alone, up to `max` (default `MAX_COUNTED_DEAD_LETTERS`). */
export async function countDeadLetters(
  kv: Deno.Kv,
  max = MAX_COUNTED_DEAD_LETTERS,
): Promise<BoundedCount> {
  let count = 0;
  const entries = kv.list({ prefix: [KEY_DEAD_LETTERS] }, { limit: max + 1, batchSize: 500 });
  for await (const _entry of entries) count++;
  return count > max ? { count: max, more: true } : { count, more: false };
}
