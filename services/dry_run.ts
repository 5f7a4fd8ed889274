/**
 * A dry run of a stored workflow on a posted event, recorded as a run and audited: the API's
 * `POST /api/workflows/:id/dry-run` and the console's dry-run form share it.
 *
 * @module
 */

import type { JsonObject, RunResult } from "../engine/model.ts";
import { appendAudit } from "../store/audit.ts";
import type { RunRecord, StoredWorkflow } from "../store/types.ts";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import { type EngineContext, runAndRecord, type RunMetrics } from "./run_and_record.ts";

/** What a dry run needs from the server (or the console) context. */
export type DryRunContext = EngineContext & Pick<AppContext, "kv" | "now"> & {
  config: Pick<Config, "retentionDays">;
};

/**
 * Dry runs try a workflow out and decide nothing: they are not counted in the run metrics (a dry
 * replay is), and queue nothing.
 */
const NOT_COUNTED: RunMetrics = {
  recordRun(): void {},
  queueEnqueued(): void {},
};

/**
 * Runs `stored` on `input` with every action only recording what it would do, saves the run and
 * writes `workflow.dry_run` to the audit log in the name of `actor`.
 */
export async function dryRunWorkflow(
  ctx: DryRunContext,
  stored: StoredWorkflow,
  options: { input: JsonObject; actor: string },
): Promise<{ run: RunRecord; result: RunResult }> {
  const { input, actor } = options;
  const { saved: { run }, result } = await runAndRecord(
    { ...ctx, metrics: NOT_COUNTED },
    stored,
    input,
    { actor: { kind: "api", id: actor }, dryRun: true },
  );
  await appendAudit(ctx.kv, {
    actor,
    action: "workflow.dry_run",
    target: stored.id,
    details: { run_id: run.id, outcome: run.outcome },
  });
  return { run, result };
}
