/**
 * Replays a stored run with its exact input against the workflow version it ran with (`original`)
 * or the current one (`current`), dry or live, within the per-run replay budget, and returns the
 * new run (linked with `replay_of`, started by the asking actor) with its node-by-node diff.
 *
 * @module
 */

import type { JsonObject, RunActor, Workflow } from "../engine/model.ts";
import { diffRuns, type RunDiff } from "../engine/run_diff.ts";
import { appendAudit } from "../store/audit.ts";
import { NotFoundError } from "../store/errors.ts";
import { claimReplaySlot } from "../store/replays.ts";
import { getRun, getRunInput } from "../store/runs.ts";
import type { RunRecord } from "../store/types.ts";
import { getWorkflow, getWorkflowVersion } from "../store/workflows.ts";
import type { AppContext } from "./context.ts";
import {
  type ExecuteRunContext,
  type RecordRunsContext,
  runAndRecord,
  type RunTarget,
} from "./run_and_record.ts";

/** Which workflow version a replay runs. */
export type ReplayMode = "original" | "current";

/** What `replayWithDiff` needs from the app context. */
export type ReplayContext = ExecuteRunContext & RecordRunsContext;

/** Options of `replayWithDiff`. */
export interface ReplayWithDiffOptions {
  mode: ReplayMode;
  /** Dry: actions record what they would do and nothing leaves Flowgate. */
  dry: boolean;
  /** Who asked (API admin, chat user); the replay run carries it. */
  actor: RunActor;
}

/** A replay and how it differs from the run it replayed. */
export interface ReplayResult {
  run: RunRecord;
  diff: RunDiff;
  /** Replays of the original run so far, this one included. */
  replays: number;
}

/**
 * Replays `runId` and saves the replay as a run; a live replay also schedules its deferred work
 * and retries, as any run does.
 *
 * @throws {NotFoundError} when the run, its input or the workflow version is gone
 * @throws {ConflictError} when the run used up its replay budget
 */
export async function replayWithDiff(
  ctx: ReplayContext,
  runId: string,
  options: ReplayWithDiffOptions,
): Promise<ReplayResult> {
  const original = await getRun(ctx.kv, runId);
  if (original === null) throw new NotFoundError(`Cannot replay run "${runId}": no such run`);
  const input = await getRunInput(ctx.kv, runId);
  if (input === null) {
    throw new NotFoundError(`Cannot replay run "${runId}": its input is no longer stored`);
  }
  const target = await replayTarget(ctx, original, options.mode);
  const replays = await claimReplaySlot(ctx.kv, runId, {
    retentionDays: ctx.config.retentionDays,
  });
  const { saved: { run } } = await runAndRecord(ctx, target, input as JsonObject, {
    actor: options.actor,
    dryRun: options.dry,
    replayOf: runId,
    mode: options.mode,
  });
  const diff = diffRuns(original, run);
  await appendAudit(ctx.kv, {
    actor: options.actor.id ?? options.actor.kind,
    action: "run.replay",
    target: runId,
    details: {
      run_id: run.id,
      mode: options.mode,
      dry: options.dry,
      outcome: run.outcome,
      changed: diff.changed,
    },
  }, { now: new Date(ctx.now()) });
  return { run, diff, replays };
}

/** The workflow a replay runs: the stored version the run used, or the current one. */
async function replayTarget(
  ctx: Pick<AppContext, "kv">,
  original: RunRecord,
  mode: ReplayMode,
): Promise<RunTarget> {
  if (mode === "current") {
    const current = await getWorkflow(ctx.kv, original.workflow_id);
    if (current) return current;
  } else {
    const version = await getWorkflowVersion(
      ctx.kv,
      original.workflow_id,
      original.workflow_version,
    );
    if (version) {
      return {
        id: original.workflow_id,
        name: original.workflow_name,
        version: version.version,
        workflow: version.workflow as Workflow,
      };
    }
  }
  throw new NotFoundError(
    `Cannot replay run "${original.id}": the ${mode} version of workflow ` +
      `"${original.workflow_name}" is gone`,
  );
}
