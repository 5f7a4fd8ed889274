/**
 * A dry run of a stored workflow on a posted event, recorded as a run and audited: the API's
 * `POST /api/workflows/:id/dry-run` and the console's dry-run form share it.
 *
 * @module
 */

import type { JsonObject, RunResult } from "../engine/model.ts";
import { runWorkflow } from "../engine/run_workflow.ts";
import type { ModuleLookup } from "../engine/walker.ts";
import type { ModuleServices } from "../engine/module_services.ts";
import { appendAudit } from "../store/audit.ts";
import { saveRuns } from "../store/runs.ts";
import type { RunRecord, StoredWorkflow } from "../store/types.ts";
import { buildRunRecord, newRunId } from "./run_record.ts";

/** What a dry run needs from the server (or the console) context. */
export interface DryRunContext {
  kv: Deno.Kv;
  services: ModuleServices;
  modules: ModuleLookup;
  config: { retentionDays: number };
  now: () => number;
}

/**
 * Runs `stored` on `input` with every action only recording what it would do, saves the run and
 * writes `workflow.dry_run` to the audit log in the name of `actor`.
 *
 * @throws {TypeError} `NormalizationError` when the input is not what the trigger needs
 */
export async function dryRunWorkflow(
  ctx: DryRunContext,
  stored: StoredWorkflow,
  options: { input: JsonObject; actor: string },
): Promise<{ run: RunRecord; result: RunResult }> {
  const { input, actor } = options;
  const startedAt = ctx.now();
  const result = await runWorkflow(stored.workflow, input, {
    services: ctx.services,
    modules: ctx.modules,
    dryRun: true,
    workflowId: stored.id,
  });
  const run = buildRunRecord(stored, result, {
    runId: newRunId(),
    actor: { kind: "api", id: actor },
    startedAt,
    finishedAt: ctx.now(),
    input,
    inputHash: "",
    dryRun: true,
  });
  await saveRuns(ctx.kv, [{ run, input }], { retentionDays: ctx.config.retentionDays });
  await appendAudit(ctx.kv, {
    actor,
    action: "workflow.dry_run",
    target: stored.id,
    details: { run_id: run.id, outcome: run.outcome },
  });
  return { run, result };
}
