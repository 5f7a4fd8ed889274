/**
 * The KV queue listener: webhook intakes, deferred `concurrent-task` sub-walks and action retries.
 * Handlers are idempotent: an intake run whose record exists is not run again, and a job is marked
 * done (atomic check) before its node runs, so a redelivered message never runs a node twice.
 *
 * An acknowledged run always ends up stored: a deterministic error (one a redelivery would meet
 * again) records the run as a `failure` with the error instead of being redelivered; only
 * transient store errors are thrown for redelivery. A retry of a failed action is an attempt of
 * the run it belongs to, recorded in that run's history (`run_attempts`), never a run of its own.
 *
 * @module
 */

import type { DeferredWalk, JsonObject, RunActor, RunResult, Workflow } from "../engine/model.ts";
import { log } from "../engine/log.ts";
import { type DeferredContext, type DeferredRunner, scheduleDeferred } from "../engine/deferred.ts";
import { type RunAncestor, runDeferredWalk, runWorkflow } from "../engine/run_workflow.ts";
import { addDeadLetter } from "../store/dead_letters.ts";
import { getIntakePayload } from "../store/intake.ts";
import { requeueUnfinishedIntakes } from "../store/intake_recovery.ts";
import {
  enqueueJob,
  getJob,
  intakeWorkId,
  type JobMessage,
  jobWorkId,
  markWorkDone,
} from "../store/queue_jobs.ts";
import { recordRunAttempt, settleRunOutcome } from "../store/run_attempts.ts";
import { getRunSummary, type RunToSave, saveRuns } from "../store/runs.ts";
import type { IntakeMessage, RunAttempt, RunRecord, StoredWorkflow } from "../store/types.ts";
import { getWorkflow, getWorkflowVersion, listEnabledWorkflows } from "../store/workflows.ts";
import type { AppContext } from "./context.ts";
import { describeError, isDeterministicError } from "./deterministic_error.ts";
import { buildRunRecord, newRunId } from "./run_record.ts";

/** How far back the start-up sweep looks for intakes whose runs are missing. */
export const INTAKE_RECOVERY_LOOKBACK_MS = 15 * 60_000;

/** Most attempts of a failed non-blocking action before it goes to the dead letters. */
export const MAX_ACTION_ATTEMPTS = 5;
/** First retry delay of a failed action; each later attempt doubles it. */
export const ACTION_RETRY_BASE_MS = 2_000;

/** What the intake stores as its payload: which workflow runs under which run id, and the data. */
export interface IntakePayload {
  workflows: { id: string; version: number; run_id: string }[];
  actor: RunActor;
  data: JsonObject;
}

/** Job payload of a deferred `concurrent-task` sub-walk: the workflow as it ran, and the walk. */
export interface DeferredJob {
  workflow: Workflow;
  workflow_id: string;
  workflow_name: string;
  workflow_version: number;
  parent_run_id: string;
  walk: DeferredWalk;
  ancestry?: RunAncestor[];
  dry_run?: boolean;
}

/** Where a `KvDeferredRunner`'s sub-walks come from. */
export interface DeferredOrigin {
  runId: string;
  workflowId: string;
  workflowName: string;
  workflowVersion: number;
}

/**
 * The engine's `DeferredRunner` over the KV queue: each sub-walk becomes a durable job (payload
 * chunked, message enqueued in the same commit) that the queue listener runs later.
 */
export class KvDeferredRunner implements DeferredRunner {
  readonly #kv: Deno.Kv;
  readonly #origin: DeferredOrigin;
  readonly #now: () => number;

  /** Sub-walks scheduled here belong to the run `origin`. */
  constructor(kv: Deno.Kv, origin: DeferredOrigin, now: () => number = Date.now) {
    this.#kv = kv;
    this.#origin = origin;
    this.#now = now;
  }

  /** Stores the sub-walk as a queue job; resolves once it is durable. */
  async schedule(walk: DeferredWalk, context: DeferredContext): Promise<void> {
    const payload: DeferredJob = {
      workflow: context.workflow,
      workflow_id: context.workflowId ?? this.#origin.workflowId,
      workflow_name: this.#origin.workflowName,
      workflow_version: this.#origin.workflowVersion,
      parent_run_id: this.#origin.runId,
      walk,
      ...(context.ancestry ? { ancestry: context.ancestry } : {}),
      ...(context.dryRun ? { dry_run: true } : {}),
    };
    await enqueueJob(this.#kv, { kind: "deferred", payload, now: this.#now() });
  }
}

/** Job payload of a retry of a failed non-blocking action. */
export interface RetryJob {
  workflow_id: string;
  workflow_version: number;
  parent_run_id: string;
  node_id: string;
  data: JsonObject;
  error: string;
  /** The attempt this job makes (the original run was attempt 1). */
  attempt: number;
}

/** Options of `createQueueHandler`. */
export interface QueueHandlerOptions {
  /** Delay of the first action retry (tests pass 0). */
  retryBaseMs?: number;
  maxAttempts?: number;
}

/**
 * Schedules the deferred sub-walks and transient-failure retries of a finished run as queue jobs,
 * and records each failed action as attempt 1 of the run. Each job is durable before this
 * resolves. Call it once the run is stored: its retries settle the stored run's outcome.
 */
export async function scheduleFollowUps(
  ctx: AppContext,
  stored: Pick<StoredWorkflow, "id" | "name" | "version" | "workflow">,
  runId: string,
  result: Pick<RunResult, "deferred" | "retries">,
  retryBaseMs = ACTION_RETRY_BASE_MS,
): Promise<void> {
  const runner = new KvDeferredRunner(ctx.kv, {
    runId,
    workflowId: stored.id,
    workflowName: stored.name,
    workflowVersion: stored.version,
  }, ctx.now);
  const jobs: Promise<unknown>[] = [
    scheduleDeferred(runner, result as RunResult, {
      workflow: stored.workflow,
      workflowId: stored.id,
    }),
  ];
  const now = ctx.now();
  for (const retry of result.retries) {
    const payload: RetryJob = {
      workflow_id: stored.id,
      workflow_version: stored.version,
      parent_run_id: runId,
      node_id: retry.node_id,
      data: retry.data,
      error: retry.error,
      attempt: 2,
    };
    const first: RunAttempt = {
      attempt: 1,
      node_id: retry.node_id,
      at: new Date(now).toISOString(),
      ok: false,
      error: retry.error,
      next_try_at: new Date(now + retryBaseMs).toISOString(),
    };
    // The attempt is recorded once its retry is durable: it never announces a retry that is not.
    jobs.push(
      enqueueJob(ctx.kv, { kind: "retry", payload, delayMs: retryBaseMs, now }).then(() =>
        recordRunAttempt(ctx.kv, runId, first, { retentionDays: ctx.config.retentionDays })
      ),
    );
  }
  await Promise.all(jobs);
  ctx.metrics.queueEnqueued(result.deferred.length + result.retries.length);
}

/**
 * Enqueues again the intakes received before `startedAt` whose runs are missing: a message in
 * flight when the previous process died only comes back once the KV queue's lease cleanup runs,
 * up to a minute later. Idempotent handlers make the extra delivery harmless.
 */
export async function recoverUnfinishedIntakes(
  ctx: AppContext,
  startedAt: number,
): Promise<number> {
  const report = await requeueUnfinishedIntakes(ctx.kv, {
    since: new Date(startedAt - INTAKE_RECOVERY_LOOKBACK_MS),
    until: new Date(startedAt),
  });
  if (report.requeued.length > 0) {
    log.info("Unfinished intakes queued again", {
      scanned: report.scanned,
      requeued: report.requeued.length,
    });
    ctx.metrics.queueEnqueued(report.requeued.length);
  }
  return report.requeued.length;
}

/** Builds the `kv.listenQueue` handler. It throws only when the message should be redelivered. */
export function createQueueHandler(
  ctx: AppContext,
  options: QueueHandlerOptions = {},
): (message: unknown) => Promise<void> {
  const inFlight = new Set<string>();
  const retryBaseMs = options.retryBaseMs ?? ACTION_RETRY_BASE_MS;
  const maxAttempts = options.maxAttempts ?? MAX_ACTION_ATTEMPTS;

  async function handleIntake(message: IntakeMessage): Promise<void> {
    const payload = await loadIntakePayload(message);
    if (payload === null) {
      await markWorkDone(ctx.kv, intakeWorkId(message.intake_id), ctx.now());
      return;
    }
    const runs: RunToSave[] = [];
    const followUps: (() => Promise<void>)[] = [];
    const claimed: string[] = [];
    let enabled: StoredWorkflow[] | undefined;
    try {
      for (const entry of payload.workflows) {
        // Claimed synchronously, before any await, so a concurrent redelivery skips it.
        if (inFlight.has(entry.run_id)) continue;
        inFlight.add(entry.run_id);
        claimed.push(entry.run_id);
        if ((await getRunSummary(ctx.kv, entry.run_id)) !== null) continue;
        const startedAt = ctx.now();
        let stored: StoredWorkflow | null = null;
        try {
          enabled ??= await listEnabledWorkflows(ctx.kv, message.trigger);
          stored = enabled.find((candidate) => candidate.id === entry.id) ??
            await getWorkflow(ctx.kv, entry.id);
          if (stored === null) {
            log.warn("Workflow deleted before its queued run", { workflow_id: entry.id });
            continue;
          }
          const workflow = stored;
          const ancestry = ctx.inFlight.ancestryOf(payload.data);
          const leave = ctx.inFlight.enter(workflow.id, payload.data);
          const result = await runWorkflow(workflow.workflow, payload.data, {
            services: ctx.services,
            modules: ctx.modules,
            dryRun: false,
            workflowId: workflow.id,
            ...(ancestry.length > 0 ? { ancestry } : {}),
          }).finally(leave);
          const run = buildRunRecord(workflow, result, {
            runId: entry.run_id,
            actor: payload.actor,
            startedAt,
            finishedAt: ctx.now(),
            input: payload.data,
            inputHash: "",
            dryRun: false,
            retriesQueued: true,
          });
          runs.push({ run, input: payload.data });
          ctx.metrics.recordRun(message.trigger, run.outcome);
          if (result.deferred.length > 0 || result.retries.length > 0) {
            followUps.push(() =>
              scheduleFollowUps(ctx, workflow, entry.run_id, result, retryBaseMs)
            );
          }
        } catch (error) {
          if (!isDeterministicError(error)) throw error;
          const workflow = stored ?? { id: entry.id, name: entry.id, version: entry.version };
          const run = failedRun(workflow, message.trigger, entry.run_id, payload, startedAt, error);
          runs.push({ run, input: payload.data });
          ctx.metrics.recordRun(message.trigger, run.outcome);
        }
      }
      if (runs.length > 0) await storeQueueRuns(message.trigger, runs);
      for (const schedule of followUps) {
        try {
          await schedule();
        } catch (error) {
          // The runs are stored: a redelivery would skip them and schedule nothing either.
          log.error("Cannot schedule the queue follow-ups of a queue run", {
            intake_id: message.intake_id,
            error: describeError(error),
          });
        }
      }
      await markWorkDone(ctx.kv, intakeWorkId(message.intake_id), ctx.now());
    } finally {
      for (const runId of claimed) inFlight.delete(runId);
    }
  }

  /** The intake's payload; null (logged, dead-lettered) when it is gone or unreadable. */
  async function loadIntakePayload(message: IntakeMessage): Promise<IntakePayload | null> {
    try {
      const payload = await getIntakePayload(ctx.kv, message.intake_id) as IntakePayload | null;
      if (payload === null) {
        log.warn("Intake payload missing or expired", { intake_id: message.intake_id });
      }
      return payload;
    } catch (error) {
      if (!isDeterministicError(error)) throw error;
      log.error("Intake payload unreadable", {
        intake_id: message.intake_id,
        error: describeError(error),
      });
      await addDeadLetter(ctx.kv, {
        kind: "intake",
        payload: message,
        error: `Intake payload unreadable: ${describeError(error)}`,
        attempts: 1,
      });
      return null;
    }
  }

  /**
   * Stores the runs of an intake. A deterministic failure is not redelivered: each run is stored
   * alone, and one that still fails is stored as a `failure` run carrying the error, so every
   * acknowledged run id exists. Transient failures are thrown for redelivery.
   */
  async function storeQueueRuns(trigger: string, runs: RunToSave[]): Promise<void> {
    try {
      await ctx.runs.submit(runs);
      return;
    } catch (error) {
      if (!isDeterministicError(error)) throw error;
    }
    for (const item of runs) {
      try {
        await ctx.runs.submit([item]);
        continue;
      } catch (error) {
        if (!isDeterministicError(error)) throw error;
        ctx.metrics.recordRunStoreFailure(trigger);
        log.error("Cannot store a queue run; storing it as a failure", {
          run_id: item.run.id,
          error: describeError(error),
        });
        await storeFailureInstead(item, error);
      }
    }
  }

  /** Stores a run that could not be stored as a bare `failure` run, or dead-letters it. */
  async function storeFailureInstead(item: RunToSave, error: unknown): Promise<void> {
    const { run } = item;
    const failure: RunRecord = {
      ...run,
      outcome: "failure",
      success: false,
      errors: [`Flowgate could not store this run: ${describeError(error)}`],
      trace: [],
    };
    delete failure.deciding_node_id;
    for (const input of [item.input, null]) {
      try {
        await ctx.runs.submit([{ run: failure, input }]);
        return;
      } catch (again) {
        if (!isDeterministicError(again)) throw again;
        error = again;
      }
    }
    log.error("Cannot store a queue run even as a failure", {
      run_id: run.id,
      error: describeError(error),
    });
    await addDeadLetter(ctx.kv, {
      kind: "run",
      payload: { run_id: run.id, workflow_id: run.workflow_id, trigger: run.trigger },
      error: `Cannot store run "${run.id}": ${describeError(error)}`,
      attempts: 1,
    });
  }

  /** The `failure` run of an intake entry whose run threw a deterministic error. */
  function failedRun(
    workflow: Pick<StoredWorkflow, "id" | "name" | "version">,
    trigger: string,
    runId: string,
    payload: IntakePayload,
    startedAt: number,
    error: unknown,
  ): RunRecord {
    log.error("Queue run failed on a deterministic error; recorded as a failure", {
      run_id: runId,
      workflow_id: workflow.id,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    const message = `Flowgate could not run this workflow: ${describeError(error)}`;
    return buildRunRecord({ ...workflow, workflow: { trigger } }, {
      outcome: "failure",
      success: false,
      errors: [message],
      trace: [],
      deferred: [],
      retries: [],
      duration_ms: ctx.now() - startedAt,
    }, {
      runId,
      actor: payload.actor,
      startedAt,
      finishedAt: ctx.now(),
      input: payload.data,
      inputHash: "",
      dryRun: false,
    });
  }

  async function loadWorkflowVersion(id: string, version: number): Promise<Workflow | null> {
    const saved = await getWorkflowVersion(ctx.kv, id, version);
    if (saved) return saved.workflow;
    return (await getWorkflow(ctx.kv, id))?.workflow ?? null;
  }

  async function handleDeferred(jobId: string, job: DeferredJob): Promise<void> {
    const startedAt = ctx.now();
    const result = await runDeferredWalk(job.workflow, job.walk, {
      services: ctx.services,
      modules: ctx.modules,
      dryRun: job.dry_run ?? false,
      workflowId: job.workflow_id,
      ...(job.ancestry ? { ancestry: job.ancestry } : {}),
    });
    await saveSubRun(
      {
        id: job.workflow_id,
        name: job.workflow_name,
        version: job.workflow_version,
        workflow: job.workflow,
      },
      result,
      job.walk.data,
      { kind: "queue", id: `deferred:${job.parent_run_id}:${jobId}` },
      startedAt,
    );
  }

  /**
   * Runs the failed node again and records the attempt in its run's history: ok, failed with a
   * next try due (a new job), or failed for good (dead letter). Then settles the run's outcome.
   */
  async function handleRetry(job: RetryJob): Promise<void> {
    const workflow = await loadWorkflowVersion(job.workflow_id, job.workflow_version);
    if (workflow === null || !workflow.nodes.some((node) => node.id === job.node_id)) {
      await recordAttempt(job, {
        ok: false,
        error: `Not retried: workflow "${job.workflow_id}" or its node "${job.node_id}" ` +
          "no longer exists",
      });
      return;
    }
    // Only the failed node runs again: its outgoing edges are cut so nothing after it repeats.
    const single: Workflow = {
      ...workflow,
      nodes: workflow.nodes.map((node) => node.id === job.node_id ? { ...node, next: [] } : node),
    };
    const result = await runWorkflow(single, job.data, {
      services: ctx.services,
      modules: ctx.modules,
      dryRun: false,
      workflowId: job.workflow_id,
      startNodeId: job.node_id,
    });
    const transient = result.retries[0];
    const entry = result.trace.findLast((candidate) => candidate.node_id === job.node_id);
    const ok = transient === undefined && result.success &&
      (entry === undefined || entry.status === "success");
    if (ok) {
      await recordAttempt(job, { ok: true });
      return;
    }
    const error = transient?.error ?? (entry?.errors.join("\n") || result.errors.join("\n")) ??
      "";
    if (transient === undefined || job.attempt >= maxAttempts) {
      await recordAttempt(job, { ok: false, error: error || "Failed" });
      if (transient !== undefined) {
        await addDeadLetter(ctx.kv, {
          kind: "action-retry",
          payload: job,
          error:
            `Action node "${job.node_id}" still failing after ${job.attempt} attempts: ${error}`,
          attempts: job.attempt,
        });
      }
      return;
    }
    const delayMs = retryBaseMs * 2 ** (job.attempt - 1);
    await enqueueJob(ctx.kv, {
      kind: "retry",
      payload: { ...job, error, attempt: job.attempt + 1 } satisfies RetryJob,
      delayMs,
      now: ctx.now(),
    });
    ctx.metrics.queueEnqueued();
    await recordAttempt(job, { ok: false, error, nextTryAt: ctx.now() + delayMs });
  }

  /** Records attempt `job.attempt` of the job's run and settles the run's outcome. */
  async function recordAttempt(
    job: RetryJob,
    result: { ok: boolean; error?: string; nextTryAt?: number },
  ): Promise<void> {
    const attempt: RunAttempt = {
      attempt: job.attempt,
      node_id: job.node_id,
      at: new Date(ctx.now()).toISOString(),
      ok: result.ok,
      ...(result.error === undefined ? {} : { error: result.error }),
      ...(result.nextTryAt === undefined
        ? {}
        : { next_try_at: new Date(result.nextTryAt).toISOString() }),
    };
    await recordRunAttempt(ctx.kv, job.parent_run_id, attempt, {
      retentionDays: ctx.config.retentionDays,
    });
    const outcome = await settleRunOutcome(ctx.kv, job.parent_run_id);
    if (outcome === null) {
      log.warn("Retried action's run is not stored", {
        run_id: job.parent_run_id,
        node_id: job.node_id,
      });
    }
  }

  async function saveSubRun(
    stored: Pick<StoredWorkflow, "id" | "name" | "version" | "workflow">,
    result: RunResult,
    input: JsonObject,
    actor: RunActor,
    startedAt: number,
  ): Promise<void> {
    const runId = newRunId();
    const run = buildRunRecord(stored, result, {
      runId,
      actor,
      startedAt,
      finishedAt: ctx.now(),
      input,
      inputHash: "",
      dryRun: false,
      retriesQueued: true,
    });
    ctx.metrics.recordRun(stored.workflow.trigger, run.outcome);
    await saveRuns(ctx.kv, [{ run, input }], { retentionDays: ctx.config.retentionDays });
    if (result.deferred.length > 0 || result.retries.length > 0) {
      await scheduleFollowUps(ctx, stored, runId, result, retryBaseMs);
    }
  }

  /** A retry job that threw ends its action's attempts, so its run does not stay `retrying`. */
  async function giveUpRetry(job: RetryJob, error: unknown): Promise<void> {
    try {
      await recordAttempt(job, { ok: false, error: `Retry failed: ${describeError(error)}` });
    } catch (again) {
      log.error("Cannot record the failed attempt of a retry", {
        run_id: job.parent_run_id,
        error: describeError(again),
      });
    }
  }

  async function handleJob(message: JobMessage): Promise<void> {
    const loaded = await getJob(ctx.kv, message.job_id);
    if (loaded === null) {
      log.warn("Queue job missing or expired", { job_id: message.job_id });
      return;
    }
    // Marked before the node runs: a redelivery finds the mark and stops (at most once per job).
    if (!(await markWorkDone(ctx.kv, jobWorkId(message.job_id), ctx.now()))) return;
    try {
      if (loaded.job.kind === "deferred") {
        await handleDeferred(message.job_id, loaded.payload as DeferredJob);
      } else if (loaded.job.kind === "retry") await handleRetry(loaded.payload as RetryJob);
      else log.warn("Unknown queue job kind", { kind: loaded.job.kind });
    } catch (error) {
      await addDeadLetter(ctx.kv, {
        kind: loaded.job.kind,
        payload: loaded.payload,
        error: error instanceof Error ? error.message : String(error),
        attempts: 1,
      });
      log.error("Queue job failed", { job_id: message.job_id, error: String(error) });
      if (loaded.job.kind === "retry") await giveUpRetry(loaded.payload as RetryJob, error);
    }
  }

  return async (message: unknown) => {
    const kind = typeof message === "object" && message !== null
      ? (message as { type?: unknown }).type
      : undefined;
    if (kind === "intake") await handleIntake(message as IntakeMessage);
    else if (kind === "job") await handleJob(message as JobMessage);
    else {
      log.warn("Unknown queue message", { message: JSON.stringify(message)?.slice(0, 200) });
      return;
    }
    ctx.metrics.queueHandled(kind === "job" ? (message as JobMessage).kind : "intake");
  };
}
