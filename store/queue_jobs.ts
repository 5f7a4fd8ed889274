/**
 * Queue jobs of the server (deferred `concurrent-task` sub-walks, action retries): a payload too
 * big for a queue message is stored chunked, and the message, enqueued in the same commit as the
 * job's summary, only names it. Done markers make handlers idempotent under redelivery and tell
 * `countQueueDepth` what is finished.
 *
 * Added by the server helper (store/keys.ts is owned by the store helper, so the prefixes live
 * here).
 *
 * @module
 */

import { monotonicFactory } from "ulid";
import { decodeJson, encodeJson, readChunks, splitChunks } from "./chunks.ts";
import { planCommits, type PlannedSet } from "./commit_plan.ts";
import { deadLetterKey } from "./dead_letters.ts";
import { DAY_MS, QUEUE_BACKOFF_MS } from "./keys.ts";

/** Job summaries: `["queue_jobs", jobId]` → `QueueJob`. */
export const KEY_QUEUE_JOBS = "queue_jobs";
/** Job payload chunks: `["queue_job_chunks", jobId, chunk]` → `Uint8Array` of JSON. */
export const KEY_QUEUE_JOB_CHUNKS = "queue_job_chunks";
/** Done markers: `["queue_done", workId]` → ISO time; a redelivered message finds it and stops. */
export const KEY_QUEUE_DONE = "queue_done";
/** How long jobs, their payloads and done markers are kept. */
export const QUEUE_JOB_RETENTION_MS = 7 * DAY_MS;

const nextId = monotonicFactory();

/** The done-marker id of a queue job. */
export function jobWorkId(jobId: string): string {
  return `job:${jobId}`;
}

/** The done-marker id of a webhook intake (set once the queue finished with it). */
export function intakeWorkId(intakeId: string): string {
  return `intake:${intakeId}`;
}

/** A job's summary. */
export interface QueueJob {
  id: string;
  kind: string;
  created_at: string;
  payload_chunks: number;
}

/** The queue message naming a job. */
export interface JobMessage {
  type: "job";
  job_id: string;
  kind: string;
}

/** Options of `enqueueJob`. */
export interface EnqueueJobOptions {
  kind: string;
  payload: unknown;
  /** Delay before delivery, in milliseconds. */
  delayMs?: number;
  now?: number;
}

/**
 * Stores a job's payload and enqueues its message; the message goes in the same commit as the
 * summary, written last, so a delivered message always finds its whole payload. A message the
 * queue gives up delivering lands among the dead letters under the job's id.
 */
export async function enqueueJob(kv: Deno.Kv, options: EnqueueJobOptions): Promise<string> {
  const id = nextId();
  const chunks = splitChunks(encodeJson(options.payload));
  const expireIn = QUEUE_JOB_RETENTION_MS;
  const units: PlannedSet[][] = chunks.map((chunk, index) => [{
    key: [KEY_QUEUE_JOB_CHUNKS, id, index],
    value: chunk,
    expireIn,
  }]);
  const job: QueueJob = {
    id,
    kind: options.kind,
    created_at: new Date(options.now ?? Date.now()).toISOString(),
    payload_chunks: chunks.length,
  };
  units.push([{ key: [KEY_QUEUE_JOBS, id], value: job, expireIn }]);
  const commits = planCommits(units);
  for (let i = 0; i < commits.length; i++) {
    const atomic = kv.atomic();
    for (const set of commits[i]!) atomic.set(set.key, set.value, { expireIn: set.expireIn });
    if (i === commits.length - 1) {
      const message: JobMessage = { type: "job", job_id: id, kind: options.kind };
      atomic.enqueue(message, {
        delay: options.delayMs ?? 0,
        backoffSchedule: [...QUEUE_BACKOFF_MS],
        keysIfUndelivered: [deadLetterKey(id)],
      });
    }
    const result = await atomic.commit();
    if (!result.ok) throw new Error(`Cannot enqueue job "${id}": the commit was refused`);
  }
  return id;
}

/** A job's summary and payload, or null when it expired or never completed. */
export async function getJob(
  kv: Deno.Kv,
  jobId: string,
): Promise<{ job: QueueJob; payload: unknown } | null> {
  const entry = await kv.get<QueueJob>([KEY_QUEUE_JOBS, jobId]);
  if (entry.value === null) return null;
  const bytes = await readChunks(kv, [KEY_QUEUE_JOB_CHUNKS, jobId], entry.value.payload_chunks);
  if (bytes === null) return null;
  return { job: entry.value, payload: decodeJson(bytes) };
}

/** True when `workId` was marked done. */
export async function isWorkDone(kv: Deno.Kv, workId: string): Promise<boolean> {
  return (await kv.get([KEY_QUEUE_DONE, workId])).value !== null;
}

/**
 * Marks `workId` done unless it already is, atomically: true for the one caller that marked it,
 * false for every later one (a redelivery).
 */
export async function markWorkDone(
  kv: Deno.Kv,
  workId: string,
  now = Date.now(),
): Promise<boolean> {
  const key = [KEY_QUEUE_DONE, workId];
  const result = await kv.atomic()
    .check({ key, versionstamp: null })
    .set(key, new Date(now).toISOString(), { expireIn: QUEUE_JOB_RETENTION_MS })
    .commit();
  return result.ok;
}

/** Deletes a finished job's summary and payload. */
export async function deleteJob(kv: Deno.Kv, jobId: string): Promise<void> {
  const atomic = kv.atomic().delete([KEY_QUEUE_JOBS, jobId]);
  for await (const entry of kv.list({ prefix: [KEY_QUEUE_JOB_CHUNKS, jobId] })) {
    atomic.delete(entry.key);
  }
  await atomic.commit();
}
