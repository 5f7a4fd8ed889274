/**
 * The queue follow-ups of a finished run: its deferred `concurrent-task` sub-walks and the
 * retries of its transiently failed actions, each stored as a durable queue job that the queue
 * listener (`queue.ts`) runs later.
 *
 * @module
 */

import type { DeferredWalk, JsonObject, RunResult, Workflow } from "../engine/model.ts";
import { type DeferredContext, type DeferredRunner, scheduleDeferred } from "../engine/deferred.ts";
import type { RunAncestor } from "../engine/run_workflow.ts";
import { enqueueJob } from "../store/queue_jobs.ts";
import { recordRunAttempt } from "../store/run_attempts.ts";
import type { RunAttempt, StoredWorkflow } from "../store/types.ts";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import type { Metrics } from "./metrics.ts";

/** First retry delay of a failed action; each later attempt doubles it. */
export const ACTION_RETRY_BASE_MS = 2_000;

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

/** What scheduling follow-ups needs from the app context. */
export type FollowUpContext = Pick<AppContext, "kv" | "now"> & {
  config: Pick<Config, "retentionDays">;
  metrics: Pick<Metrics, "queueEnqueued">;
};

/**
 * Schedules the deferred sub-walks and transient-failure retries of a finished run as queue jobs,
 * and records each failed action as attempt 1 of the run. Each job is durable before this
 * resolves. Call it once the run is stored: its retries settle the stored run's outcome.
 */
export async function scheduleFollowUps(
  ctx: FollowUpContext,
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
    scheduleDeferred(runner, result, {
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
