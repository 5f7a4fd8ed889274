/**
 * The KV queue listener: webhook intakes, deferred `concurrent-task` sub-walks and action retries.
 * Handlers are idempotent: an intake run whose record exists is not run again, and a job is marked
 * done (atomic check) before its node runs, so a redelivered message never runs a node twice.
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
import { enqueueJob, getJob, type JobMessage, markWorkDone } from "../store/queue_jobs.ts";
import { getRunSummary, type RunToSave, saveRuns } from "../store/runs.ts";
import type { IntakeMessage, StoredWorkflow } from "../store/types.ts";
import { getWorkflow, getWorkflowVersion, listEnabledWorkflows } from "../store/workflows.ts";
import type { ServerContext } from "./deps.ts";
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
 * Schedules the deferred sub-walks and transient-failure retries of a finished run as queue jobs.
 * Each job is durable before this resolves.
 */
export async function scheduleFollowUps(
  ctx: ServerContext,
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
    jobs.push(enqueueJob(ctx.kv, { kind: "retry", payload, delayMs: retryBaseMs, now: ctx.now() }));
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
  ctx: ServerContext,
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
  ctx: ServerContext,
  options: QueueHandlerOptions = {},
): (message: unknown) => Promise<void> {
  const inFlight = new Set<string>();
  const retryBaseMs = options.retryBaseMs ?? ACTION_RETRY_BASE_MS;
  const maxAttempts = options.maxAttempts ?? MAX_ACTION_ATTEMPTS;

  async function handleIntake(message: IntakeMessage): Promise<void> {
    const payload = await getIntakePayload(ctx.kv, message.intake_id) as IntakePayload | null;
    if (payload === null) {
      log.warn("Intake payload missing or expired", { intake_id: message.intake_id });
      return;
    }
    const runs: RunToSave[] = [];
    const followUps: Promise<void>[] = [];
    const claimed: string[] = [];
    let enabled: StoredWorkflow[] | undefined;
    try {
      for (const entry of payload.workflows) {
        // Claimed synchronously, before any await, so a concurrent redelivery skips it.
        if (inFlight.has(entry.run_id)) continue;
        inFlight.add(entry.run_id);
        claimed.push(entry.run_id);
        if ((await getRunSummary(ctx.kv, entry.run_id)) !== null) continue;
        enabled ??= await listEnabledWorkflows(ctx.kv, message.trigger);
        const stored = enabled.find((candidate) => candidate.id === entry.id) ??
          await getWorkflow(ctx.kv, entry.id);
        if (stored === null) {
          log.warn("Workflow deleted before its queued run", { workflow_id: entry.id });
          continue;
        }
        const startedAt = ctx.now();
        const ancestry = ctx.inFlight.ancestryOf(payload.data);
        const leave = ctx.inFlight.enter(stored.id, payload.data);
        const result = await runWorkflow(stored.workflow, payload.data, {
          services: ctx.services,
          modules: ctx.modules,
          dryRun: false,
          workflowId: stored.id,
          ...(ancestry.length > 0 ? { ancestry } : {}),
        }).finally(leave);
        runs.push({
          run: buildRunRecord(stored, result, {
            runId: entry.run_id,
            actor: payload.actor,
            startedAt,
            finishedAt: ctx.now(),
            input: payload.data,
            inputHash: "",
            dryRun: false,
          }),
          input: payload.data,
        });
        ctx.metrics.recordRun(message.trigger, result.outcome);
        if (result.deferred.length > 0 || result.retries.length > 0) {
          followUps.push(scheduleFollowUps(ctx, stored, entry.run_id, result, retryBaseMs));
        }
      }
      if (runs.length > 0) await Promise.all([ctx.runs.submit(runs), ...followUps]);
    } finally {
      for (const runId of claimed) inFlight.delete(runId);
    }
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

  async function handleRetry(job: RetryJob): Promise<void> {
    const workflow = await loadWorkflowVersion(job.workflow_id, job.workflow_version);
    const stored = await getWorkflow(ctx.kv, job.workflow_id);
    if (workflow === null || stored === null) return;
    if (!workflow.nodes.some((node) => node.id === job.node_id)) return;
    // Only the failed node runs again: its outgoing edges are cut so nothing after it repeats.
    const single: Workflow = {
      ...workflow,
      nodes: workflow.nodes.map((node) => node.id === job.node_id ? { ...node, next: [] } : node),
    };
    const startedAt = ctx.now();
    const result = await runWorkflow(single, job.data, {
      services: ctx.services,
      modules: ctx.modules,
      dryRun: false,
      workflowId: job.workflow_id,
      startNodeId: job.node_id,
    });
    await saveSubRun(
      { ...stored, version: job.workflow_version, workflow },
      { ...result, retries: [] },
      job.data,
      { kind: "queue", id: `retry:${job.parent_run_id}:${job.node_id}#${job.attempt}` },
      startedAt,
    );
    if (result.retries.length === 0) return;
    const error = result.retries[0]!.error;
    if (job.attempt >= maxAttempts) {
      await addDeadLetter(ctx.kv, {
        kind: "action-retry",
        payload: job,
        error: `Action node "${job.node_id}" still failing after ${job.attempt} attempts: ${error}`,
        attempts: job.attempt,
      });
      return;
    }
    await enqueueJob(ctx.kv, {
      kind: "retry",
      payload: { ...job, error, attempt: job.attempt + 1 } satisfies RetryJob,
      delayMs: retryBaseMs * 2 ** (job.attempt - 1),
      now: ctx.now(),
    });
    ctx.metrics.queueEnqueued();
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
    });
    ctx.metrics.recordRun(stored.workflow.trigger, result.outcome);
    await saveRuns(ctx.kv, [{ run, input }], { retentionDays: ctx.config.retentionDays });
    if (result.deferred.length > 0 || result.retries.length > 0) {
      await scheduleFollowUps(ctx, stored, runId, result, retryBaseMs);
    }
  }

  async function handleJob(message: JobMessage): Promise<void> {
    const loaded = await getJob(ctx.kv, message.job_id);
    if (loaded === null) {
      log.warn("Queue job missing or expired", { job_id: message.job_id });
      return;
    }
    // Marked before the node runs: a redelivery finds the mark and stops (at most once per job).
    if (!(await markWorkDone(ctx.kv, `job:${message.job_id}`, ctx.now()))) return;
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
