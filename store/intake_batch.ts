/**
 * Group commit of webhook intakes: several concurrent intakes land in one atomic commit (dedupe
 * markers checked, records, payloads and one queue message for them all), which is what lets
 * durable intake pass 1,000 webhooks per second on a local KV whose commits serialise. Anything
 * unusual (a big payload, a marker that changed under the batch) falls back to `recordIntake`, one
 * by one.
 *
 * Added by the server helper. The stored shapes are those of `store/intake.ts` (same keys, record,
 * dedupe marker), so readers cannot tell which path wrote an intake; the queue message is
 * `store/intake.ts`'s, carrying the commit's other intakes in `also`.
 *
 * @module
 */

import { ulid } from "ulid";
import { encodeJson, sha256Hex, splitChunks } from "./chunks.ts";
import { deadLetterKey } from "./dead_letters.ts";
import { getManySliced } from "./get_many.ts";
import { type IntakeResult, recordIntake, type RecordIntakeOptions } from "./intake.ts";
import {
  DAY_MS,
  INTAKE_RETENTION_DAYS,
  KEY_INTAKE_DEDUPE,
  KEY_INTAKE_PAYLOADS,
  KEY_INTAKES,
  KEY_WORKFLOWS_REVISION,
  MAX_COMMIT_CHECKS,
  QUEUE_BACKOFF_MS,
} from "./keys.ts";
import type { IntakeMessage, IntakeRecord } from "./types.ts";

const REVISION_KEY: Deno.KvKey = [KEY_WORKFLOWS_REVISION];

/** The answer for an intake whose run ids came from workflows changed since: nothing recorded. */
const STALE: IntakeResult = Object.freeze({
  duplicate: false,
  stale: true,
  runIds: [],
  intakeId: "",
}) as IntakeResult;

/** Payload bytes one batch commit may carry (the rest of the 800 KiB commit is keys and records). */
export const BATCH_PAYLOAD_BUDGET_BYTES = 640_000;

/** The dedupe marker, as `store/intake.ts` writes it. */
interface IntakeDedupe {
  intake_id: string;
  run_ids: string[];
  expires_at: number;
}

/**
 * The queue message of a batch commit: the first intake's `IntakeMessage`, with the other intakes
 * of the same commit in `also` (the listener handles each as if it had its own message). To the
 * dead letters and their retry it is the first intake's message, carried whole.
 */
export interface IntakeBatchMessage extends IntakeMessage {
  also: IntakeMessage[];
}

interface Prepared {
  index: number;
  options: RecordIntakeOptions;
  dedupeKey: Deno.KvKey;
  bytes: Uint8Array;
}

/**
 * Records several intakes, in as few commits as the limits allow (at most `MAX_COMMIT_CHECKS`
 * intakes per commit). Results come back in the order of `items`; the same dedupe key twice in one
 * call gives the second the first one's run ids, as a resend would.
 */
export async function recordIntakes(
  kv: Deno.Kv,
  items: RecordIntakeOptions[],
): Promise<IntakeResult[]> {
  const results: (IntakeResult | undefined)[] = new Array(items.length);
  const firstByKey = new Map<string, number>();
  const fresh: Prepared[] = [];
  const alone: number[] = [];
  items.forEach((options, index) => {
    const id = `${options.trigger}\u0000${options.dedupeKey}`;
    const first = firstByKey.get(id);
    if (first !== undefined) return;
    firstByKey.set(id, index);
    const bytes = options.payloadJson ?? encodeJson(options.payload);
    if (bytes.length > BATCH_PAYLOAD_BUDGET_BYTES) alone.push(index);
    else {
      fresh.push({
        index,
        options,
        dedupeKey: [KEY_INTAKE_DEDUPE, options.trigger, options.dedupeKey],
        bytes,
      });
    }
  });

  // The commits go to KV together: it applies them one after the other anyway, and nobody
  // waits for a round trip between them.
  const batches = packBatches(fresh);
  const outcomes = await Promise.all(batches.map((batch) => commitBatch(kv, batch)));
  batches.forEach((batch, b) => {
    const committed = outcomes[b]!;
    if (committed === null) alone.push(...batch.map((item) => item.index));
    else committed.forEach((result, i) => results[batch[i]!.index] = result);
  });
  // Alone, an intake carrying a revision is checked against one read of the counter, made
  // after the intake began: the same guarantee as listing the workflows then.
  const current = alone.some((index) => items[index]!.workflowsRevision !== undefined)
    ? (await kv.get(REVISION_KEY)).versionstamp
    : undefined;
  for (const index of alone) {
    const revision = items[index]!.workflowsRevision;
    results[index] = revision !== undefined && revision !== current
      ? STALE
      : await recordIntake(kv, items[index]!);
  }

  return items.map((options, index) => {
    const first = firstByKey.get(`${options.trigger}\u0000${options.dedupeKey}`)!;
    const result = results[first]!;
    return index === first || result.stale ? result : { ...result, duplicate: true };
  });
}

function packBatches(items: Prepared[]): Prepared[][] {
  const batches: Prepared[][] = [];
  let current: Prepared[] = [];
  let bytes = 0;
  for (const item of items) {
    if (
      current.length > 0 &&
      // One check of each batch is the workflows' revision counter.
      (current.length >= MAX_COMMIT_CHECKS - 1 ||
        bytes + item.bytes.length > BATCH_PAYLOAD_BUDGET_BYTES)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes.length;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * One commit for `batch`; null when a dedupe marker changed under it (callers fall back). The
 * commit first assumes no intake of the batch was seen before (it checks that their markers are
 * absent) and that the workflows did not change since the revision the intakes' run ids came
 * from: a resend or a workflow change is rare, and this spares reading the markers and the
 * revision counter, round trips every batch would wait for. When either check fails, they are
 * read: an intake whose workflows changed answers `stale`, and the others commit again.
 */
async function commitBatch(kv: Deno.Kv, batch: Prepared[]): Promise<IntakeResult[] | null> {
  const unseen = batch.map((item): Deno.KvEntryMaybe<IntakeDedupe> => ({
    key: item.dedupeKey,
    value: null,
    versionstamp: null,
  }));
  // Run ids from an older revision than another intake's are stale for sure.
  const revision = newestRevision(batch);
  const older = batch.map((item) => isStale(item, revision));
  const fresh = await commitWithMarkers(kv, batch, unseen, older, revision);
  if (fresh !== null) return fresh;
  const [counter, ...markers] = await getManySliced<IntakeDedupe>(kv, [
    REVISION_KEY,
    ...batch.map((item) => item.dedupeKey),
  ]);
  const stale = batch.map((item) => isStale(item, counter!.versionstamp));
  return await commitWithMarkers(kv, batch, markers, stale, undefined);
}

/** The newest revision the batch's intakes carry; undefined when none carries one. */
function newestRevision(batch: Prepared[]): string | null | undefined {
  let newest: string | null | undefined;
  for (const { options: { workflowsRevision } } of batch) {
    if (workflowsRevision === undefined) continue;
    if (newest === undefined || (workflowsRevision ?? "") > (newest ?? "")) {
      newest = workflowsRevision;
    }
  }
  return newest;
}

/** True when the intake's run ids came from another revision than `current`. */
function isStale(item: Prepared, current: string | null | undefined): boolean {
  const carried = item.options.workflowsRevision;
  return carried !== undefined && carried !== current;
}

/**
 * The commit of `batch` given its dedupe markers as read (or assumed absent), skipping the
 * intakes marked `stale` (answered `STALE`) and, when `revision` is given, checking that the
 * workflows' revision counter is still at it; null on conflict.
 */
async function commitWithMarkers(
  kv: Deno.Kv,
  batch: Prepared[],
  markers: Deno.KvEntryMaybe<IntakeDedupe>[],
  stale: boolean[],
  revision: string | null | undefined,
): Promise<IntakeResult[] | null> {
  const results: IntakeResult[] = [];
  const op = kv.atomic();
  const expireIn = INTAKE_RETENTION_DAYS * DAY_MS;
  const messages: IntakeMessage[] = [];
  for (let i = 0; i < batch.length; i++) {
    const { options, dedupeKey, bytes } = batch[i]!;
    if (stale[i]) {
      results.push(STALE);
      continue;
    }
    const marker = markers[i]!;
    const now = options.now ?? new Date();
    if (marker.value && marker.value.expires_at > now.getTime()) {
      results.push({
        duplicate: true,
        runIds: marker.value.run_ids,
        intakeId: marker.value.intake_id,
      });
      continue;
    }
    const intakeId = ulid(now.getTime());
    const chunks = splitChunks(bytes);
    const record: IntakeRecord = {
      id: intakeId,
      trigger: options.trigger,
      dedupe_key: options.dedupeKey,
      run_ids: options.runIds,
      received_at: now.toISOString(),
      payload_hash: await sha256Hex(bytes),
      payload_bytes: bytes.length,
      payload_chunks: chunks.length,
    };
    messages.push({
      type: "intake",
      intake_id: intakeId,
      trigger: options.trigger,
      run_ids: options.runIds,
    });
    const dedupe: IntakeDedupe = {
      intake_id: intakeId,
      run_ids: options.runIds,
      expires_at: now.getTime() + options.windowMs,
    };
    op.check(marker)
      .set(dedupeKey, dedupe, { expireIn: Math.max(1, options.windowMs) })
      .set([KEY_INTAKES, intakeId], record, { expireIn });
    chunks.forEach((chunk, n) => op.set([KEY_INTAKE_PAYLOADS, intakeId, n], chunk, { expireIn }));
    results.push({ duplicate: false, runIds: options.runIds, intakeId });
  }
  if (messages.length === 0) return results;
  if (revision !== undefined) op.check({ key: REVISION_KEY, versionstamp: revision });
  for (const message of queueMessages(messages)) {
    op.enqueue(message, {
      keysIfUndelivered: [deadLetterKey(message.intake_id)],
      backoffSchedule: [...QUEUE_BACKOFF_MS],
    });
  }
  return (await op.commit()).ok ? results : null;
}

/** Largest batch message, in characters of JSON; KV refuses queue messages over 64 KiB. */
const MAX_BATCH_MESSAGE_CHARS = 32_768;

/**
 * The queue messages of a commit's intakes: one for them all (the local KV queue spends far more
 * per delivered message than per intake handled inside one), or one each when that one would be
 * too big (intakes of many workflows carry many run ids).
 */
function queueMessages(messages: IntakeMessage[]): (IntakeMessage | IntakeBatchMessage)[] {
  const [first, ...also] = messages;
  if (first === undefined || also.length === 0) return messages;
  const batch: IntakeBatchMessage = { ...first, also };
  return JSON.stringify(batch).length <= MAX_BATCH_MESSAGE_CHARS ? [batch] : messages;
}
