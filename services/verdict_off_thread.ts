/**
 * A verdict decided by a verdict Worker (`verdict_workers.ts`): the server's thread hands over
 * the `/query` body, and gets back the verdict and the runs, which it counts, stores, follows up
 * and announces exactly as for a verdict decided here (`settleVerdict`).
 *
 * @module
 */

import type { RunActor } from "../engine/model.ts";
import type { StoredWorkflow } from "../store/types.ts";
import type { QueryNodeContext } from "./query_input.ts";
import type { ExecutedRun } from "./run_and_record.ts";
import {
  enabledWorkflowsOf,
  settleVerdict,
  type Verdict,
  type VerdictContext,
  verdictDeadline,
} from "./verdict.ts";
import type { VerdictWorkerDecided } from "./verdict_worker_protocol.ts";
import { VerdictWorkerError, type VerdictWorkers } from "./verdict_workers.ts";

/** A `/query` body whose `data` member was located, not parsed yet. */
export interface QueryBytes {
  /** The whole body; handed to the Worker, and given back unless the Worker failed. */
  body: Uint8Array<ArrayBuffer>;
  /** Where the bytes of `data` lie in `body` (a guess, proved by parsing them). */
  dataStart: number;
  dataEnd: number;
  nodeContext: QueryNodeContext;
}

/** Options of `decideVerdictOffThread`. */
export interface OffThreadVerdictOptions {
  actor: RunActor;
  /** When the request started (a `performance.now()` time): the deadline counts from it. */
  started: number;
  /** Told once the verdict is reached, before its runs are stored (see `VerdictOptions`). */
  onDecided?: () => void;
}

/**
 * How a verdict off the server's thread ended, with `body`, the same bytes given back by the
 * Worker (the caller's again, to release or decide on):
 * - `decided`: answered, and the runs stored;
 * - `not-object`: `data` is not a JSON object;
 * - `on-main-thread`: the server's thread must decide (a workflow needs its services, or the
 *   body needs parsing whole), from `body`.
 */
export type OffThreadVerdict =
  & { body: Uint8Array<ArrayBuffer> }
  & ({ kind: "decided"; verdict: Verdict } | { kind: "not-object" } | { kind: "on-main-thread" });

/**
 * Decides on `trigger` in a verdict Worker, then settles the verdict here: its runs counted,
 * stored (a failure is logged, never answered), followed up and a block announced.
 *
 * @throws {VerdictUnavailableError} when the enabled workflows cannot be read
 * @throws {VerdictWorkerError} when the Worker failed or got stuck: no verdict exists, and the
 *   caller must answer a block
 */
export async function decideVerdictOffThread(
  ctx: VerdictContext,
  workers: VerdictWorkers,
  trigger: string,
  query: QueryBytes,
  options: OffThreadVerdictOptions,
): Promise<OffThreadVerdict> {
  const workflows = await enabledWorkflowsOf(ctx, trigger);
  const workflowKeys = workflows.map((stored) => `${stored.id}@${stored.version}`).join(",");
  // A Worker replaced while the workflows were read may not be ready yet: this thread decides.
  if (!workers.available || workers.needsMainThread(workflowKeys)) {
    return { kind: "on-main-thread", body: query.body };
  }
  const deadline = verdictDeadline(ctx.config.verdictTimeoutMs, options.started);
  const answer = await workers.decide({
    body: query.body,
    dataStart: query.dataStart,
    dataEnd: query.dataEnd,
    nodeContext: query.nodeContext,
    workflows,
    actor: options.actor,
    remainingMs: deadline.at - performance.now(),
    timeoutMs: deadline.timeoutMs,
    inFlight: ctx.inFlight.snapshot(),
  }).catch((error) => {
    ctx.metrics.recordOffThreadVerdict("failed");
    throw error;
  });
  ctx.metrics.recordOffThreadVerdict(answer.kind);
  switch (answer.kind) {
    case "decided": {
      const runs = executedRuns(ctx, workflows, answer, query);
      options.onDecided?.();
      await settleVerdict(ctx, trigger, answer.verdict, runs, options.started);
      return { kind: "decided", verdict: answer.verdict, body: answer.body };
    }
    case "main-thread":
      workers.rememberMainThread(workflowKeys);
      return { kind: "on-main-thread", body: answer.body };
    case "unparsed":
      return { kind: "on-main-thread", body: answer.body };
    case "not-object":
      return { kind: "not-object", body: answer.body };
    case "failed":
      throw new VerdictWorkerError(`failed while deciding: ${answer.error}`);
  }
}

/** The Worker's runs as this thread's executed runs, counted (`flowgate_runs_total`). */
function executedRuns(
  ctx: Pick<VerdictContext, "metrics">,
  workflows: readonly StoredWorkflow[],
  answer: VerdictWorkerDecided,
  query: QueryBytes,
): ExecutedRun[] {
  // One input object for all the runs: the store writes it once.
  const inputJson = answer.inputJson ?? answer.body.subarray(query.dataStart, query.dataEnd);
  return answer.runs.map(({ run, result, followUps }) => {
    ctx.metrics.recordRun(run.trigger, run.outcome);
    return {
      // `input` is what the store encodes when there is no `inputJson`; here there always is.
      saved: { run, input: null, inputJson, inputJsonHash: answer.inputHash },
      result,
      followUpTarget: followUps
        ? workflows.find((stored) => stored.id === run.workflow_id) ?? null
        : null,
    };
  });
}
