/**
 * The blocking path: run a trigger's enabled workflows in `order` under the verdict deadline and
 * answer allow or block, saving every run in one group commit. The verdict never depends on
 * whether its runs could be stored: a failed save is logged, counted and alerted, not answered.
 *
 * @module
 */

import { log } from "../engine/log.ts";
import type { JsonObject, RunActor } from "../engine/model.ts";
import { cutText } from "../store/cut_text.ts";
import { listEnabledWorkflows } from "../store/workflows.ts";
import { type RunToSave, saveRuns } from "../store/runs.ts";
import type { StoredWorkflow } from "../store/types.ts";
import type { AppContext } from "./context.ts";
import { GroupCommitter } from "./group_commit.ts";
import {
  type ExecutedRun,
  executeRun,
  type ExecuteRunContext,
  type ExecuteRunOptions,
  recordRuns,
  type RecordRunsContext,
  type VerdictDeadline,
} from "./run_and_record.ts";

/** Most requests whose runs share one `saveRuns` call. */
export const RUN_BATCH_SIZE = 32;

/**
 * Most characters of the block reason MISP is answered (16 KiB of text); the rest is cut with a
 * marker naming the run, whose record keeps the whole text.
 */
export const MAX_VERDICT_REASON_CHARS = 16_384;

/**
 * No verdict could be reached because the store could not say which workflows are enabled. The
 * caller must not allow: `/query` answers MISP a block (`{"error": …}`) with this message.
 */
export class VerdictUnavailableError extends Error {
  /** The trigger no verdict could be reached for. */
  readonly trigger: string;

  /** Builds the error; `cause` is the store's error. */
  constructor(trigger: string, options?: ErrorOptions) {
    super(
      `Cannot decide on trigger "${trigger}": the enabled workflows could not be read from the ` +
        "store; blocked to be safe",
      options,
    );
    this.name = "VerdictUnavailableError";
    this.trigger = trigger;
  }
}

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

/** What `decideVerdict` needs from the app context. */
export type VerdictContext =
  & ExecuteRunContext
  & RecordRunsContext
  & Pick<AppContext, "kv" | "config" | "metrics" | "inFlight" | "runs" | "announceBlockedRun">;

/** Options of `decideVerdict`. */
export interface VerdictOptions {
  actor: RunActor;
  /** `data`'s JSON bytes exactly as received, stored as the runs' input without re-encoding. */
  inputJson?: Uint8Array;
  /** The SHA-256 hex of `inputJson`, usually still being computed off the JavaScript thread. */
  inputJsonHash?: Promise<string>;
  /**
   * Told once the verdict is reached, before its runs are stored: the parsed input is no longer
   * worked on, so the caller may let the next request's be parsed meanwhile.
   */
  onDecided?: () => void;
}

/**
 * Runs the enabled workflows of `trigger` on `data`, first block wins. The whole answer stays
 * within `config.verdictTimeoutMs`: a workflow still running at the deadline follows its
 * `on_timeout` policy and its run is recorded with `timed_out: true`.
 *
 * The runs are saved before the answer, but a failed save does not change it: the failure is
 * logged at error level with the run ids, counted (`flowgate_run_store_failures_total`), and a
 * block is still announced to chat. Queue follow-ups (deferred sub-walks, action retries) are
 * scheduled once the runs are stored, so a retry always finds its run; failing to schedule them
 * is logged the same way.
 *
 * @throws {VerdictUnavailableError} when the enabled workflows cannot be read: no verdict exists,
 *   and the caller must answer a block
 */
export async function decideVerdict(
  ctx: VerdictContext,
  trigger: string,
  data: JsonObject,
  options: VerdictOptions,
): Promise<Verdict> {
  const started = performance.now();
  const workflows = await enabledWorkflowsOf(ctx, trigger);
  const { verdict, runs } = await walkVerdict(ctx, workflows, data, {
    actor: options.actor,
    ancestry: ctx.inFlight.ancestryOf(data),
    deadline: verdictDeadline(ctx.config.verdictTimeoutMs, started),
    ...(options.inputJson === undefined ? {} : { inputJson: options.inputJson }),
    ...(options.inputJsonHash === undefined ? {} : { inputJsonHash: options.inputJsonHash }),
  });
  options.onDecided?.();
  await settleVerdict(ctx, trigger, verdict, runs, started);
  return verdict;
}

/**
 * The workflows a verdict on `trigger` runs, in order.
 *
 * @throws {VerdictUnavailableError} when the store cannot say
 */
export async function enabledWorkflowsOf(
  ctx: Pick<AppContext, "kv">,
  trigger: string,
): Promise<StoredWorkflow[]> {
  try {
    return await listEnabledWorkflows(ctx.kv, trigger);
  } catch (error) {
    throw new VerdictUnavailableError(trigger, { cause: error });
  }
}

/** The deadline of a verdict whose request started at `started` (a `performance.now()` time). */
export function verdictDeadline(timeoutMs: number, started: number): VerdictDeadline {
  return { at: started + timeoutMs, timeoutMs };
}

/** Options of `walkVerdict`: those of every run it executes. */
export type WalkVerdictOptions = Pick<
  ExecuteRunOptions,
  "actor" | "ancestry" | "deadline" | "inputJson" | "inputJsonHash"
>;

/**
 * Runs `workflows` on `data` in order until one blocks (first block wins), each under the verdict
 * deadline, and returns the verdict with the runs executed, not stored yet. The part of a verdict
 * that needs nothing but the data and the engine: a verdict Worker runs it too.
 */
export async function walkVerdict(
  ctx: ExecuteRunContext,
  workflows: readonly StoredWorkflow[],
  data: JsonObject,
  options: WalkVerdictOptions,
): Promise<{ verdict: Verdict; runs: ExecutedRun[] }> {
  const runs: ExecutedRun[] = [];
  let verdict: Verdict = { allow: true, errors: [], runIds: [] };
  for (const stored of workflows) {
    const executed = await executeRun(ctx, stored, data, { ...options, retriesQueued: true });
    runs.push(executed);
    verdict.runIds.push(executed.saved.run.id);
    if (!executed.result.success) {
      verdict = { allow: false, errors: executed.result.errors, runIds: verdict.runIds };
      break;
    }
  }
  return { verdict, runs };
}

/**
 * What follows a verdict once it is reached, wherever it was walked: its runs are stored and
 * their follow-ups queued (a failure is logged and counted, never thrown), a block is announced
 * to chat, and the verdict is counted with its time since `started`.
 */
export async function settleVerdict(
  ctx: VerdictContext,
  trigger: string,
  verdict: Verdict,
  runs: readonly ExecutedRun[],
  started: number,
): Promise<void> {
  if (runs.length > 0) {
    await recordRuns(ctx, runs, {
      save: (saved) => storeVerdictRuns(ctx, trigger, verdict, saved),
      onFollowUpError: (error) => {
        log.error("Cannot schedule the queue follow-ups of a verdict run", {
          trigger,
          run_ids: verdict.runIds,
          error: describeError(error),
        });
      },
    });
    try {
      // Detached: the chat card must not cost the verdict any time.
      if (!verdict.allow) ctx.announceBlockedRun?.(runs.at(-1)!.saved.run);
    } catch (error) {
      log.error("Cannot announce a blocked run", {
        run_id: verdict.runIds.at(-1),
        error: describeError(error),
      });
    }
  }
  ctx.metrics.recordVerdict(trigger, verdict.allow, performance.now() - started);
}

/** Saves a verdict's runs; a failure is logged and counted, never thrown. */
async function storeVerdictRuns(
  ctx: Pick<AppContext, "runs" | "metrics">,
  trigger: string,
  verdict: Verdict,
  runs: RunToSave[],
): Promise<void> {
  try {
    await ctx.runs.submit(runs);
  } catch (error) {
    ctx.metrics.recordRunStoreFailure(trigger, runs.length);
    log.error("Cannot store the runs of a verdict; the verdict was answered all the same", {
      trigger,
      verdict: verdict.allow ? "allow" : "block",
      run_ids: verdict.runIds,
      error: describeError(error),
    });
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/**
 * The answer MISP reads: `{"data": true}` to allow, `{"error": "<reasons>"}` to block. The
 * reasons are cut at `MAX_VERDICT_REASON_CHARS` with a marker naming the deciding run.
 */
export function verdictBody(verdict: Verdict): { data: true } | { error: string } {
  if (verdict.allow) return { data: true };
  const reasons = verdict.errors.filter((error) => error.trim() !== "");
  if (reasons.length === 0) return { error: "Blocked by a Flowgate workflow" };
  const runId = verdict.runIds.at(-1);
  return {
    error: cutJoined(reasons, MAX_VERDICT_REASON_CHARS, runId && `Flowgate run ${runId}`),
  };
}

/**
 * `parts` joined by newlines and cut at `max` characters with a marker, without building the
 * whole join: the reasons of a block may hold megabytes of event text.
 */
function cutJoined(parts: string[], max: number, where: string | undefined): string {
  let text = "";
  let totalChars = 0;
  for (const [i, part] of parts.entries()) {
    const piece = i === 0 ? part : "\n" + part;
    totalChars += piece.length;
    if (text.length <= max) text += piece.slice(0, max + 1 - text.length);
  }
  return cutText(text, max, { totalChars, ...(where ? { where } : {}) });
}
