/**
 * Turns an engine `RunResult` into the `RunRecord` the store keeps, the same way for verdicts,
 * queue runs, dry runs and replays.
 *
 * @module
 */

import { monotonicFactory } from "ulid";
import type { JsonObject, RunActor, RunResult, Workflow } from "../engine/model.ts";
import type { RunRecord, StoredWorkflow } from "../store/types.ts";
import { eventSummary } from "../triggers/event_summary.ts";

const nextUlid = monotonicFactory();

/** A new run id: a ULID, monotonic within this process so ids sort by start time. */
export function newRunId(): string {
  return nextUlid();
}

/** What `buildRunRecord` needs besides the workflow and the result. */
export interface RunRecordOptions {
  runId: string;
  actor: RunActor;
  startedAt: number;
  finishedAt: number;
  input: unknown;
  /** The store replaces it with the SHA-256 of the input it stored; pass "" when not known. */
  inputHash: string;
  dryRun: boolean;
  replayOf?: string;
  mode?: "original" | "current";
  timedOut?: boolean;
  /**
   * True when the run's transient action failures (`result.retries`) are retried from the queue:
   * a run whose walk succeeded is then `retrying` until its attempts settle.
   */
  retriesQueued?: boolean;
}

/** Builds the stored record of one run. */
export function buildRunRecord(
  stored: Pick<StoredWorkflow, "id" | "name" | "version"> & { workflow: Pick<Workflow, "trigger"> },
  result: RunResult,
  options: RunRecordOptions,
): RunRecord {
  const record: RunRecord = {
    id: options.runId,
    workflow_id: stored.id,
    workflow_name: stored.name,
    workflow_version: stored.version,
    // Runs only start from workflows with a trigger; a draft's failed run names none.
    trigger: stored.workflow.trigger ?? "",
    actor: options.actor,
    started_at: new Date(options.startedAt).toISOString(),
    finished_at: new Date(options.finishedAt).toISOString(),
    duration_ms: result.duration_ms,
    outcome: options.retriesQueued && result.retries.length > 0 && result.outcome === "success"
      ? "retrying"
      : result.outcome,
    success: result.success,
    errors: result.errors,
    dry_run: options.dryRun,
    input_hash: options.inputHash,
    trace: result.trace,
  };
  if (result.deciding_node_id !== undefined) record.deciding_node_id = result.deciding_node_id;
  const event = summarizeEvent(options.input);
  if (event) record.event = event;
  if (options.replayOf !== undefined) record.replay_of = options.replayOf;
  if (options.mode !== undefined) record.mode = options.mode;
  if (options.timedOut) record.timed_out = true;
  return record;
}

/** The run-list summary of the event in `input`, when there is one. */
export function summarizeEvent(input: unknown): RunRecord["event"] | undefined {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return undefined;
  try {
    const summary = eventSummary(input as JsonObject);
    const event: NonNullable<RunRecord["event"]> = {};
    for (const key of ["uuid", "id", "info", "timestamp"] as const) {
      const value = summary[key];
      if (value !== null && value !== "") event[key] = value;
    }
    return Object.keys(event).length > 0 ? event : undefined;
  } catch {
    return undefined;
  }
}
