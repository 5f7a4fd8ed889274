/**
 * The blocking path: run a trigger's enabled workflows in `order` under the verdict deadline and
 * answer allow or block, saving every run in one group commit.
 *
 * @module
 */

import type { JsonObject, RunActor, RunResult } from "../engine/model.ts";
import { runWorkflow } from "../engine/run_workflow.ts";
import { listEnabledWorkflows } from "../store/workflows.ts";
import { type RunToSave, saveRuns } from "../store/runs.ts";
import type { StoredWorkflow } from "../store/types.ts";
import type { ServerContext } from "./deps.ts";
import { GroupCommitter } from "./group_commit.ts";
import { scheduleFollowUps } from "./queue.ts";
import { buildRunRecord, newRunId } from "./run_record.ts";

/** Most requests whose runs share one `saveRuns` call. */
export const RUN_BATCH_SIZE = 32;

/**
 * The verdict path's group commit: the runs of concurrent requests are saved together; each
 * request's runs stay whole. A failing batch is retried request by request so one bad run cannot
 * fail its neighbours.
 */
export function createRunCommitter(
  kv: Deno.Kv,
  retentionDays: number,
): GroupCommitter<RunToSave[], void> {
  return new GroupCommitter<RunToSave[], void>(async (batches) => {
    try {
      await saveRuns(kv, batches.flat(), { retentionDays });
      return batches.map((): void => undefined);
    } catch {
      const outcomes = await Promise.allSettled(
        batches.map((runs) => saveRuns(kv, runs, { retentionDays })),
      );
      const failed = outcomes.find((outcome) => outcome.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return batches.map((): void => undefined);
    }
  }, RUN_BATCH_SIZE);
}

/** What the caller of a blocking trigger is told. */
export interface Verdict {
  allow: boolean;
  /** MISP-style reasons of the block (empty when allowed). */
  errors: string[];
  runIds: string[];
}

/** Options of `decideVerdict`. */
export interface VerdictOptions {
  actor: RunActor;
  /** `data`'s JSON bytes exactly as received, stored as the runs' input without re-encoding. */
  inputJson?: Uint8Array;
}

/**
 * Runs the enabled workflows of `trigger` on `data`, first block wins. The whole answer stays
 * within `config.verdictTimeoutMs`: a workflow still running at the deadline follows its
 * `on_timeout` policy and its run is recorded with `timed_out: true`.
 */
export async function decideVerdict(
  ctx: ServerContext,
  trigger: string,
  data: JsonObject,
  options: VerdictOptions,
): Promise<Verdict> {
  const started = performance.now();
  const deadline = started + ctx.config.verdictTimeoutMs;
  const workflows = await listEnabledWorkflows(ctx.kv, trigger);
  const runs: RunToSave[] = [];
  const followUps: Promise<void>[] = [];
  let verdict: Verdict = { allow: true, errors: [], runIds: [] };

  for (const stored of workflows) {
    const runId = newRunId();
    const startedAt = ctx.now();
    const { result, timedOut } = await runWithDeadline(ctx, stored, data, deadline);
    const record = buildRunRecord(stored, result, {
      runId,
      actor: options.actor,
      startedAt,
      finishedAt: ctx.now(),
      input: data,
      inputHash: "",
      dryRun: false,
      timedOut,
    });
    runs.push({
      run: record,
      input: data,
      ...(options.inputJson === undefined ? {} : { inputJson: options.inputJson }),
    });
    verdict.runIds.push(runId);
    ctx.metrics.recordRun(trigger, result.outcome);
    if (result.deferred.length > 0 || result.retries.length > 0) {
      followUps.push(scheduleFollowUps(ctx, stored, runId, result));
    }
    if (!result.success) {
      verdict = { allow: false, errors: result.errors, runIds: verdict.runIds };
      break;
    }
  }
  if (runs.length > 0) {
    await Promise.all([
      ctx.runs.submit(runs),
      ...followUps,
    ]);
    // Detached: the chat card must not cost the verdict any time.
    if (!verdict.allow) ctx.announceBlockedRun?.(runs.at(-1)!.run);
  }
  ctx.metrics.recordVerdict(trigger, verdict.allow, performance.now() - started);
  return verdict;
}

/** The answer MISP reads: `{"data": true}` to allow, `{"error": "<reasons>"}` to block. */
export function verdictBody(verdict: Verdict): { data: true } | { error: string } {
  if (verdict.allow) return { data: true };
  const reasons = verdict.errors.filter((error) => error.trim() !== "");
  return { error: reasons.length > 0 ? reasons.join("\n") : "Blocked by a Flowgate workflow" };
}

async function runWithDeadline(
  ctx: ServerContext,
  stored: StoredWorkflow,
  data: JsonObject,
  deadline: number,
): Promise<{ result: RunResult; timedOut: boolean }> {
  const remaining = Math.max(0, deadline - performance.now());
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new DOMException("Verdict deadline passed", "TimeoutError"));
      resolve("timeout");
    }, remaining);
  });
  const ancestry = ctx.inFlight.ancestryOf(data);
  const run = runWorkflow(stored.workflow, data, {
    ...(ancestry.length > 0 ? { ancestry } : {}),
    services: ctx.services,
    modules: ctx.modules,
    dryRun: false,
    signal: controller.signal,
    workflowId: stored.id,
  });
  try {
    const first = await Promise.race([run, expired]);
    if (first !== "timeout") return { result: first, timedOut: false };
  } finally {
    clearTimeout(timer);
  }
  // The walk goes on until its modules notice the abort; its late result is dropped.
  run.catch(() => {});
  const allow = stored.workflow.on_timeout === "allow";
  const message = `Workflow \`${stored.name}\` (${stored.id}) missed the verdict deadline of ` +
    `${ctx.config.verdictTimeoutMs} ms; on_timeout is "${stored.workflow.on_timeout}"`;
  return {
    timedOut: true,
    result: {
      outcome: allow ? "success" : "blocked",
      success: allow,
      errors: [message],
      trace: [],
      deferred: [],
      retries: [],
      duration_ms: ctx.config.verdictTimeoutMs,
    },
  };
}
