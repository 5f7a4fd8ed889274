/**
 * The per-run replay budget: each replay claims one slot of its origin run atomically, so a run
 * cannot be replayed more than `MAX_REPLAYS_PER_RUN` times, even by concurrent callers.
 *
 * @module
 */

import { ConflictError } from "./errors.ts";
import { DAY_MS, DEFAULT_RUN_RETENTION_DAYS, MAX_WRITE_ATTEMPTS } from "./keys.ts";

/** Replay counters: `["replays_by_run", runId]` → `Deno.KvU64`. */
export const KEY_REPLAYS_BY_RUN = "replays_by_run";
/** Most replays of one run. */
export const MAX_REPLAYS_PER_RUN = 20;

/** Options of `claimReplaySlot`. */
export interface ClaimReplayOptions {
  /** Limit (default `MAX_REPLAYS_PER_RUN`). */
  limit?: number;
  /** Days the counter is kept: the run's retention (default 14). */
  retentionDays?: number;
}

/**
 * Claims one replay of `runId`; resolves with the number of replays including this one.
 *
 * @throws {ConflictError} when the run was already replayed `limit` times
 */
export async function claimReplaySlot(
  kv: Deno.Kv,
  runId: string,
  options: ClaimReplayOptions = {},
): Promise<number> {
  const limit = options.limit ?? MAX_REPLAYS_PER_RUN;
  const key = [KEY_REPLAYS_BY_RUN, runId];
  const expireIn = (options.retentionDays ?? DEFAULT_RUN_RETENTION_DAYS) * DAY_MS;
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const entry = await kv.get<Deno.KvU64>(key);
    const used = Number(entry.value?.value ?? 0n);
    if (used >= limit) {
      throw new ConflictError(
        `Cannot replay run "${runId}": it was replayed ${used} times already (limit ${limit})`,
      );
    }
    const result = await kv.atomic().check(entry)
      .set(key, new Deno.KvU64(BigInt(used + 1)), { expireIn })
      .commit();
    if (result.ok) return used + 1;
  }
  throw new ConflictError(`Cannot replay run "${runId}": too many concurrent replays`);
}

/** How many times `runId` was replayed. */
export async function countReplays(kv: Deno.Kv, runId: string): Promise<number> {
  return Number((await kv.get<Deno.KvU64>([KEY_REPLAYS_BY_RUN, runId])).value?.value ?? 0n);
}
