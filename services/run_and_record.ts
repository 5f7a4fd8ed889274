/**
 * Run a workflow and record it, one way on every path that does: verdicts, queue intakes and
 * deferred sub-walks, replays (API, chat, console) and dry runs. `executeRun` runs one workflow
 * with the engine's lookups, builds its record and counts it; `recordRuns` stores the records of
 * one or more runs in one save, then queues their follow-ups; `runAndRecord` does both for one.
 *
 * @module
 */

import type { JsonObject, RunActor, RunResult } from "../engine/model.ts";
import { type RunAncestor, type RunOptions, runWorkflow } from "../engine/run_workflow.ts";
import { type RunToSave, saveRuns } from "../store/runs.ts";
import type { StoredWorkflow } from "../store/types.ts";
import type { AppContext } from "./context.ts";
import { type FollowUpContext, scheduleFollowUps } from "./follow_ups.ts";
import type { Metrics } from "./metrics.ts";
import { buildRunRecord, newRunId } from "./run_record.ts";

/** The workflow a run uses: a stored workflow, or one of its saved versions. */
export type RunTarget = Pick<StoredWorkflow, "id" | "name" | "version" | "workflow">;

/** What the engine needs from the context: the module services, module and trigger lookups. */
export type EngineContext = Pick<AppContext, "services" | "modules" | "triggers">;

/** The engine options every run started from `ctx` gets: services, modules and triggers. */
export function engineOptions(
  ctx: EngineContext,
): Pick<RunOptions, "services" | "modules" | "triggers"> {
  return {
    services: ctx.services,
    modules: ctx.modules,
    triggers: ctx.triggers,
  };
}

/** The counters recorded runs report to: the app's `Metrics`, or a stand-in that counts nothing. */
export type RunMetrics = Pick<Metrics, "recordRun" | "queueEnqueued">;

/** What `executeRun` needs from the context. */
export type ExecuteRunContext = EngineContext & Pick<AppContext, "now"> & {
  metrics: Pick<RunMetrics, "recordRun">;
};

/** What `recordRuns` needs from the context: the store, and the queue for follow-ups. */
export type RecordRunsContext = FollowUpContext;

/** A verdict's deadline: when it passes, and the budget it was set from. */
export interface VerdictDeadline {
  /** A `performance.now()` time. */
  at: number;
  /** The verdict budget (`config.verdictTimeoutMs`), named in the timeout message. */
  timeoutMs: number;
}

/** Options of `executeRun`. */
export interface ExecuteRunOptions {
  /** Who started the run. */
  actor: RunActor;
  /** The run's id (default: a new one); the queue passes the id its intake answered with. */
  runId?: string;
  /** Actions record what they would do and do nothing outside; nothing is queued after it. */
  dryRun?: boolean;
  /** Runs a deferred sub-walk from this node instead of the whole workflow. */
  startNodeId?: string;
  /** Runs this one was started from, for the engine's re-entrancy guard. */
  ancestry?: RunAncestor[];
  /**
   * The verdict deadline: a run still going then is aborted, ends as its workflow's `on_timeout`
   * says and is recorded with `timed_out: true`.
   */
  deadline?: VerdictDeadline;
  /** The run's transient action failures are retried from the queue (see `buildRunRecord`). */
  retriesQueued?: boolean;
  /** The run this one replays. */
  replayOf?: string;
  /** Which workflow version a replay runs. */
  mode?: "original" | "current";
  /** The input's JSON bytes exactly as received, stored without re-encoding. */
  inputJson?: Uint8Array;
  /** The SHA-256 hex of `inputJson`, or its computation under way (see `RunToSave`). */
  inputJsonHash?: Promise<string>;
}

/** A finished run, counted and not stored yet. */
export interface ExecutedRun {
  /** The record and the input `recordRuns` stores. */
  saved: RunToSave;
  /** The engine's result: errors, deferred sub-walks, retries. */
  result: RunResult;
  /**
   * The workflow the run's follow-ups (deferred sub-walks, action retries) are queued against once
   * it is stored; null when it has none, or ran dry.
   */
  followUpTarget: RunTarget | null;
}

/**
 * Runs `target` on `input` with the engine's lookups, builds the run's record and counts it
 * (`flowgate_runs_total`). Never throws for workflow or data problems: they end as the run's
 * outcome.
 */
export async function executeRun(
  ctx: ExecuteRunContext,
  target: RunTarget,
  input: JsonObject,
  options: ExecuteRunOptions,
): Promise<ExecutedRun> {
  const dryRun = options.dryRun ?? false;
  const startedAt = ctx.now();
  const runOptions: RunOptions = {
    ...engineOptions(ctx),
    dryRun,
    workflowId: target.id,
    ...(options.startNodeId === undefined ? {} : { startNodeId: options.startNodeId }),
    ...(options.ancestry && options.ancestry.length > 0 ? { ancestry: options.ancestry } : {}),
  };
  const { result, timedOut } = options.deadline
    ? await runWithDeadline(target, input, runOptions, options.deadline)
    : { result: await runWorkflow(target.workflow, input, runOptions), timedOut: false };
  const run = buildRunRecord(target, result, {
    runId: options.runId ?? newRunId(),
    actor: options.actor,
    startedAt,
    finishedAt: ctx.now(),
    input,
    inputHash: "",
    dryRun,
    timedOut,
    ...(options.retriesQueued ? { retriesQueued: true } : {}),
    ...(options.replayOf === undefined ? {} : { replayOf: options.replayOf }),
    ...(options.mode === undefined ? {} : { mode: options.mode }),
  });
  ctx.metrics.recordRun(run.trigger, run.outcome);
  const followUps = result.deferred.length > 0 || result.retries.length > 0;
  return {
    saved: {
      run,
      input,
      ...(options.inputJson === undefined ? {} : { inputJson: options.inputJson }),
      ...(options.inputJson === undefined || options.inputJsonHash === undefined
        ? {}
        : { inputJsonHash: options.inputJsonHash }),
    },
    result,
    followUpTarget: followUps && !dryRun ? target : null,
  };
}

/** Options of `recordRuns`. */
export interface RecordRunsOptions {
  /**
   * Stores the records (default: one `saveRuns` call). The verdict and the queue pass their group
   * commit wrapped in their own policy for a failed save.
   */
  save?: (runs: RunToSave[]) => Promise<void>;
  /** First retry delay of the runs' failed actions (default `ACTION_RETRY_BASE_MS`). */
  retryBaseMs?: number;
  /** Told of each run whose follow-ups could not be queued; without it the first error is thrown. */
  onFollowUpError?: (error: unknown, run: ExecutedRun) => void;
}

/**
 * Stores `runs` in one save, then queues their follow-ups (each durable before this resolves).
 * The follow-ups wait for the save: a retry settles the outcome of its stored run.
 *
 * @throws whatever the save throws (the follow-ups are then not queued), or the first follow-up
 *   error when `onFollowUpError` is not given
 */
export async function recordRuns(
  ctx: RecordRunsContext,
  runs: readonly ExecutedRun[],
  options: RecordRunsOptions = {},
): Promise<void> {
  if (runs.length === 0) return;
  const saved = runs.map((run) => run.saved);
  if (options.save) await options.save(saved);
  else await saveRuns(ctx.kv, saved, { retentionDays: ctx.config.retentionDays });
  const pending = runs.filter((run) => run.followUpTarget !== null);
  const outcomes = await Promise.allSettled(
    pending.map((run) =>
      scheduleFollowUps(ctx, run.followUpTarget!, run.saved.run.id, run.result, options.retryBaseMs)
    ),
  );
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.status === "fulfilled") continue;
    if (!options.onFollowUpError) throw outcome.reason;
    options.onFollowUpError(outcome.reason, pending[index]!);
  }
}

/** Runs one workflow and records it: `executeRun`, then `recordRuns` with its default save. */
export async function runAndRecord(
  ctx: ExecuteRunContext & RecordRunsContext,
  target: RunTarget,
  input: JsonObject,
  options: ExecuteRunOptions & Pick<RecordRunsOptions, "retryBaseMs">,
): Promise<ExecutedRun> {
  const executed = await executeRun(ctx, target, input, options);
  await recordRuns(ctx, [executed], {
    ...(options.retryBaseMs === undefined ? {} : { retryBaseMs: options.retryBaseMs }),
  });
  return executed;
}

/**
 * Runs `target` under the verdict deadline. At the deadline the run is aborted and its late result
 * dropped; the run ends as the workflow's `on_timeout` says.
 */
async function runWithDeadline(
  target: RunTarget,
  input: JsonObject,
  options: RunOptions,
  deadline: VerdictDeadline,
): Promise<{ result: RunResult; timedOut: boolean }> {
  const remaining = Math.max(0, deadline.at - performance.now());
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new DOMException("Verdict deadline passed", "TimeoutError"));
      resolve("timeout");
    }, remaining);
  });
  const run = runWorkflow(target.workflow, input, {
    ...options,
    signal: controller.signal,
    deadline: deadline.at,
  });
  try {
    const first = await Promise.race([run, expired]);
    if (first !== "timeout") return { result: first, timedOut: false };
  } finally {
    clearTimeout(timer);
  }
  // The walk goes on until its modules notice the abort; its late result is dropped.
  run.catch(() => {});
  const allow = target.workflow.on_timeout === "allow";
  const message = `Workflow \`${target.name}\` (${target.id}) missed the verdict deadline of ` +
    `${deadline.timeoutMs} ms; on_timeout is "${target.workflow.on_timeout}"`;
  return {
    timedOut: true,
    result: {
      outcome: allow ? "success" : "blocked",
      success: allow,
      errors: [message],
      trace: [],
      deferred: [],
      retries: [],
      duration_ms: deadline.timeoutMs,
    },
  };
}
