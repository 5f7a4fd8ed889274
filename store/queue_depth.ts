/**
 * The queue's depth read from KV: webhook intakes and queue jobs accepted and not finished. The
 * KV queue cannot be listed, so the records that go with its messages are counted instead, which
 * is right across restarts and processes, unlike a count kept in memory.
 *
 * @module
 */

import { deadLetterKey } from "./dead_letters.ts";
import { KEY_INTAKES, KEY_RUNS, MAX_GET_MANY_KEYS, MAX_QUEUE_DEPTH_SCAN } from "./keys.ts";
import { intakeWorkId, jobWorkId, KEY_QUEUE_DONE, KEY_QUEUE_JOBS } from "./queue_jobs.ts";
import type { IntakeRecord } from "./types.ts";

/** Ids checked per `getMany`: two keys each (done marker, dead letter). */
const MARKERS_PER_GET = MAX_GET_MANY_KEYS / 2;

/** Options of `countQueueDepth`. */
export interface QueueDepthOptions {
  /** Most intakes and most jobs looked at, newest first (default `MAX_QUEUE_DEPTH_SCAN` each). */
  maxScan?: number;
}

/**
 * Counts the queue work not finished: intakes without a done marker, dead letter or every run
 * stored, and jobs without a done marker or dead letter. Looks at the newest `maxScan` of each,
 * so the count saturates there; older work is long done or dead-lettered by the queue's backoff.
 */
export async function countQueueDepth(
  kv: Deno.Kv,
  options: QueueDepthOptions = {},
): Promise<number> {
  const maxScan = options.maxScan ?? MAX_QUEUE_DEPTH_SCAN;
  const [intakes, jobs] = await Promise.all([
    countPendingIntakes(kv, maxScan),
    countPendingJobs(kv, maxScan),
  ]);
  return intakes + jobs;
}

async function countPendingIntakes(kv: Deno.Kv, maxScan: number): Promise<number> {
  let pending = 0;
  let batch: IntakeRecord[] = [];
  const flush = async () => {
    const open = new Set(await notFinished(kv, batch.map((intake) => intake.id), intakeWorkId));
    for (const intake of batch) {
      // Intakes taken in before done markers existed are finished once every run is stored.
      if (open.has(intake.id) && intake.run_ids.length > 0 && await hasMissingRun(kv, intake)) {
        pending++;
      }
    }
    batch = [];
  };
  const entries = kv.list<IntakeRecord>({ prefix: [KEY_INTAKES] }, {
    reverse: true,
    limit: maxScan,
  });
  for await (const entry of entries) {
    batch.push(entry.value);
    if (batch.length === MARKERS_PER_GET) await flush();
  }
  await flush();
  return pending;
}

async function countPendingJobs(kv: Deno.Kv, maxScan: number): Promise<number> {
  let pending = 0;
  let ids: string[] = [];
  for await (
    const entry of kv.list({ prefix: [KEY_QUEUE_JOBS] }, { reverse: true, limit: maxScan })
  ) {
    ids.push(entry.key[1] as string);
    if (ids.length === MARKERS_PER_GET) {
      pending += (await notFinished(kv, ids, jobWorkId)).length;
      ids = [];
    }
  }
  if (ids.length > 0) pending += (await notFinished(kv, ids, jobWorkId)).length;
  return pending;
}

/** The ids among `ids` with neither a done marker nor a dead letter. */
async function notFinished(
  kv: Deno.Kv,
  ids: string[],
  workId: (id: string) => string,
): Promise<string[]> {
  if (ids.length === 0) return [];
  const keys = ids.flatMap((id) => [[KEY_QUEUE_DONE, workId(id)], deadLetterKey(id)]);
  const found = await kv.getMany(keys);
  return ids.filter((_, i) =>
    found[2 * i]!.versionstamp === null && found[2 * i + 1]!.versionstamp === null
  );
}

async function hasMissingRun(kv: Deno.Kv, intake: IntakeRecord): Promise<boolean> {
  const runIds = intake.run_ids;
  for (let i = 0; i < runIds.length; i += MAX_GET_MANY_KEYS) {
    const keys = runIds.slice(i, i + MAX_GET_MANY_KEYS).map((id) => [KEY_RUNS, id]);
    const found = await kv.getMany(keys);
    if (found.some((entry) => entry.versionstamp === null)) return true;
  }
  return false;
}
