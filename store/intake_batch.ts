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
import { type IntakeResult, recordIntake, type RecordIntakeOptions } from "./intake.ts";
import {
  DAY_MS,
  INTAKE_RETENTION_DAYS,
  KEY_INTAKE_DEDUPE,
  KEY_INTAKE_PAYLOADS,
  KEY_INTAKES,
  MAX_COMMIT_CHECKS,
  QUEUE_BACKOFF_MS,
} from "./keys.ts";
import type { IntakeMessage, IntakeRecord } from "./types.ts";

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
  for (const index of alone) results[index] = await recordIntake(kv, items[index]!);

  return items.map((options, index) => {
    const first = firstByKey.get(`${options.trigger}\u0000${options.dedupeKey}`)!;
    const result = results[first]!;
    return index === first ? result : { ...result, duplicate: true };
  });
}

function packBatches(items: Prepared[]): Prepared[][] {
  const batches: Prepared[][] = [];
  let current: Prepared[] = [];
  let bytes = 0;
  for (const item of items) {
    if (
      current.length > 0 &&
      (current.length >= MAX_COMMIT_CHECKS ||
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
 * absent): a resend is rare, and this spares the read of the markers, a round trip every batch
 * would wait for. When a marker exists, the markers are read and the batch committed again.
 */
async function commitBatch(kv: Deno.Kv, batch: Prepared[]): Promise<IntakeResult[] | null> {
  const unseen = batch.map((item): Deno.KvEntryMaybe<IntakeDedupe> => ({
    key: item.dedupeKey,
    value: null,
    versionstamp: null,
  }));
  const fresh = await commitWithMarkers(kv, batch, unseen);
  if (fresh !== null) return fresh;
  const markers = await kv.getMany<IntakeDedupe[]>(batch.map((item) => item.dedupeKey));
  return await commitWithMarkers(kv, batch, markers);
}

/** The commit of `batch` given its dedupe markers as read (or assumed absent); null on conflict. */
async function commitWithMarkers(
  kv: Deno.Kv,
  batch: Prepared[],
  markers: Deno.KvEntryMaybe<IntakeDedupe>[],
): Promise<IntakeResult[] | null> {
  const results: IntakeResult[] = [];
  const op = kv.atomic();
  const expireIn = INTAKE_RETENTION_DAYS * DAY_MS;
  const messages: IntakeMessage[] = [];
  for (let i = 0; i < batch.length; i++) {
    const { options, dedupeKey, bytes } = batch[i]!;
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
