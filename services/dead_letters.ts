/**
 * Dead letters by hand: retry one (its work goes back on the queue) or discard it, both audited.
 * The console and the admin API share these.
 *
 * @module
 */

import { appendAudit } from "../store/audit.ts";
import { deadLetterKey, deleteDeadLetter, getDeadLetter } from "../store/dead_letters.ts";
import { ConflictError, NotFoundError } from "../store/errors.ts";
import { QUEUE_BACKOFF_MS } from "../store/keys.ts";
import { enqueueJob, getJob } from "../store/queue_jobs.ts";
import type { DeadLetter, IntakeMessage } from "../store/types.ts";
import type { AppContext } from "./context.ts";

/** Job kinds whose dead letters carry the job's payload and can be queued again. */
const JOB_KINDS: Record<string, string> = {
  "action-retry": "retry",
  retry: "retry",
  deferred: "deferred",
};

/** A dead letter whose work cannot be queued again (it names what is missing); the API answers 409. */
export class DeadLetterNotRetryableError extends ConflictError {
  /** Creates the error for dead letter `id`, saying why. */
  constructor(id: string, why: string) {
    super(`Cannot retry dead letter "${id}": ${why}; discard it instead`);
    this.name = "DeadLetterNotRetryableError";
  }
}

/** What a retry queued: an intake message again, or a new job. */
export interface DeadLetterRetry {
  id: string;
  kind: string;
  queued: { intake: string } | { job: string };
}

type DeadLetterContext = Pick<AppContext, "kv" | "now" | "metrics">;

function isIntakeMessage(value: unknown): value is IntakeMessage {
  const message = value as Partial<IntakeMessage> | null;
  return typeof message === "object" && message !== null && message.type === "intake" &&
    typeof message.intake_id === "string" && typeof message.trigger === "string" &&
    Array.isArray(message.run_ids);
}

function jobIdOf(value: unknown): string | undefined {
  const message = value as { type?: unknown; job_id?: unknown } | null;
  return message?.type === "job" && typeof message.job_id === "string" ? message.job_id : undefined;
}

/**
 * Queues a dead letter's work again and removes the letter: an intake message is enqueued as it
 * was (the intake handler skips runs already stored), a job is enqueued as a new job with the
 * same payload (one more attempt). Audited under `actor`.
 *
 * @throws {NotFoundError} when there is no such dead letter (or it was just retried)
 * @throws {DeadLetterNotRetryableError} when its work cannot be queued again (a run that could not
 *   be stored, an expired job)
 */
export async function retryDeadLetter(
  ctx: DeadLetterContext,
  id: string,
  actor: string,
): Promise<DeadLetterRetry> {
  const found = await getDeadLetter(ctx.kv, id);
  if (found === null) {
    throw new NotFoundError(`Cannot retry dead letter "${id}": no such dead letter`);
  }
  const { letter, entry } = found;
  let retry: DeadLetterRetry;
  if (isIntakeMessage(letter.payload)) {
    const message = letter.payload;
    const committed = await ctx.kv.atomic().check(entry).delete(entry.key)
      .enqueue(message, {
        keysIfUndelivered: [deadLetterKey(message.intake_id)],
        backoffSchedule: [...QUEUE_BACKOFF_MS],
      }).commit();
    if (!committed.ok) throw new NotFoundError(`Dead letter "${id}" was just retried or discarded`);
    retry = { id, kind: letter.kind, queued: { intake: message.intake_id } };
  } else {
    const job = await jobOf(ctx.kv, letter);
    if (!(await ctx.kv.atomic().check(entry).delete(entry.key).commit()).ok) {
      throw new NotFoundError(`Dead letter "${id}" was just retried or discarded`);
    }
    const jobId = await enqueueJob(ctx.kv, { ...job, now: ctx.now() });
    retry = { id, kind: letter.kind, queued: { job: jobId } };
  }
  ctx.metrics.queueEnqueued();
  await appendAudit(ctx.kv, {
    actor,
    action: "dead_letter.retry",
    target: id,
    details: { kind: letter.kind, ...retry.queued },
  });
  return retry;
}

/** The job a dead letter's work becomes when retried. */
async function jobOf(
  kv: Deno.Kv,
  letter: DeadLetter,
): Promise<{ kind: string; payload: unknown }> {
  const kind = JOB_KINDS[letter.kind];
  if (kind !== undefined) return { kind, payload: letter.payload };
  const jobId = jobIdOf(letter.payload);
  if (jobId !== undefined) {
    const job = await getJob(kv, jobId);
    if (job === null) throw new DeadLetterNotRetryableError(letter.id, `job "${jobId}" expired`);
    return { kind: job.job.kind, payload: job.payload };
  }
  throw new DeadLetterNotRetryableError(
    letter.id,
    `a "${letter.kind}" dead letter records work that cannot be queued again`,
  );
}

/**
 * Discards a dead letter, audited under `actor`.
 *
 * @throws {NotFoundError} when there is no such dead letter
 */
export async function discardDeadLetter(
  ctx: Pick<AppContext, "kv">,
  id: string,
  actor: string,
): Promise<void> {
  await deleteDeadLetter(ctx.kv, id);
  await appendAudit(ctx.kv, { actor, action: "dead_letter.delete", target: id });
}
