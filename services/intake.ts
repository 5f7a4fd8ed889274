/**
 * Durable intake of work that runs from the queue (MISP webhooks, `/query` on non-blocking
 * triggers): run ids assigned, the payload and its queue message committed together, resends
 * inside the de-duplication window answered with the first run ids.
 *
 * @module
 */

import type { JsonObject, RunActor } from "../engine/model.ts";
import type { IntakeResult as RecordedIntake, RecordIntakeOptions } from "../store/intake.ts";
import { recordIntakes } from "../store/intake_batch.ts";
import {
  type CachedEnabledWorkflows,
  cachedEnabledWorkflows,
  listEnabledWorkflows,
} from "../store/workflows.ts";
import type { StoredWorkflow } from "../store/types.ts";
import type { AppContext } from "./context.ts";
import { GroupCommitter } from "./group_commit.ts";
import type { IntakePayload } from "./queue.ts";
import { sha256Hex } from "../engine/digest.ts";
import { newRunId, summarizeEvent } from "./run_record.ts";

/** The outcome of an intake. */
export interface IntakeResult {
  duplicate: boolean;
  runIds: string[];
  /** The intake the run ids belong to (the first one for a duplicate). */
  intakeId: string;
}

const encoder = new TextEncoder();

/** Most intakes handed to one `recordIntakes` call (it commits them ten at a time). */
export const INTAKE_BATCH_SIZE = 50;

/** The intake group committer of one server. */
export function createIntakeCommitter(
  kv: Deno.Kv,
): GroupCommitter<RecordIntakeOptions, RecordedIntake> {
  return new GroupCommitter((items) => recordIntakes(kv, items), INTAKE_BATCH_SIZE);
}

/** Options of `acceptIntake`. */
export interface AcceptIntakeOptions {
  actor: RunActor;
  /** The exact body as received, hashed for de-duplication (re-serialised when absent). */
  payloadText?: string;
  /**
   * `data`'s JSON text exactly as received (a JSON body): hashed for de-duplication instead of
   * `payloadText`, and stored as is inside the intake payload rather than re-serialised.
   */
  dataJson?: string;
}

/**
 * Longest event uuid or timestamp kept as is in a de-duplication key (a MISP uuid has 36
 * characters, a timestamp 10); a longer one is replaced by its SHA-256, since the key becomes part
 * of a KV key, which KV limits to 2 KiB.
 */
export const MAX_DEDUPE_PART_CHARS = 64;

/**
 * The de-duplication key of a payload: event uuid and timestamp (when there is an event) and the
 * SHA-256 of the exact payload, so MISP's resend of the same event state is caught while a changed
 * event is not. Parts too long for a KV key are hashed (`MAX_DEDUPE_PART_CHARS`).
 */
export async function intakeDedupeKey(data: JsonObject, payloadText: string): Promise<string> {
  const event = summarizeEvent(data);
  const [uuid, timestamp, payload] = await Promise.all([
    dedupePart(event?.uuid),
    dedupePart(event?.timestamp),
    sha256Hex(payloadText),
  ]);
  return `${uuid}:${timestamp}:${payload}`;
}

async function dedupePart(value: string | number | undefined): Promise<string> {
  if (value === undefined) return "-";
  const text = String(value);
  return text.length <= MAX_DEDUPE_PART_CHARS ? text : `sha256=${await sha256Hex(text)}`;
}

/**
 * Commits an intake for `trigger`: one run id per enabled workflow, payload and queue message in
 * one atomic commit (shared with concurrent intakes: group commit). Resolves only once the work is
 * durable.
 *
 * The enabled workflows come from this process's cache without a store read; the commit checks
 * that no workflow changed since the cache was loaded, and when one did, the run ids are assigned
 * again from workflows read now and the intake committed again. So an intake runs the workflows
 * enabled when it was committed, as if they had been read first, one round trip sooner.
 */
export async function acceptIntake(
  ctx: AppContext,
  trigger: string,
  data: JsonObject,
  options: AcceptIntakeOptions,
): Promise<IntakeResult> {
  const payloadText = options.dataJson ?? options.payloadText ?? JSON.stringify(data);
  const cached = cachedEnabledWorkflows(ctx.kv, trigger);
  const [listed, dedupeKey] = await Promise.all([
    cached ?? listEnabledWorkflows(ctx.kv, trigger),
    intakeDedupeKey(data, payloadText),
  ]);
  let result = await submitIntake(ctx, trigger, data, options, dedupeKey, listed);
  if (result.stale) {
    const workflows = await listEnabledWorkflows(ctx.kv, trigger);
    result = await submitIntake(ctx, trigger, data, options, dedupeKey, workflows);
  }
  ctx.metrics.recordIntake(result.duplicate);
  if (!result.duplicate) ctx.metrics.queueEnqueued();
  return result;
}

/**
 * Hands one intake to the group commit, its run ids assigned from `workflows`: the cached ones
 * (with the revision to check) or a list read for this intake.
 */
async function submitIntake(
  ctx: AppContext,
  trigger: string,
  data: JsonObject,
  options: AcceptIntakeOptions,
  dedupeKey: string,
  workflows: StoredWorkflow[] | CachedEnabledWorkflows,
): Promise<RecordedIntake> {
  const cached = Array.isArray(workflows) ? undefined : workflows;
  const entries = (cached?.workflows ?? workflows as StoredWorkflow[]).map((stored) => ({
    id: stored.id,
    version: stored.version,
    run_id: newRunId(),
  }));
  const payload: IntakePayload = { workflows: entries, actor: options.actor, data };
  return await ctx.intakes.submit({
    trigger,
    dedupeKey,
    payload,
    ...(options.dataJson === undefined ? {} : {
      // `payload`'s JSON, its data spliced in as received (it parsed as the object `data`).
      payloadJson: encoder.encode(
        `{"workflows":${JSON.stringify(entries)},"actor":${JSON.stringify(options.actor)},` +
          `"data":${options.dataJson}}`,
      ),
    }),
    runIds: entries.map((entry) => entry.run_id),
    windowMs: ctx.config.hookDedupeWindowS * 1_000,
    ...(cached === undefined ? {} : { workflowsRevision: cached.revision }),
  });
}
