/**
 * Dry runs of stored runs for `deno task dry-run <run-id>`: the run's exact input from the KV
 * (`FLOWGATE_KV`), against the workflow version it ran with or a workflow file, and the diff from
 * the stored run.
 *
 * @module
 */

import type { JsonObject, RunResult, Workflow } from "../engine/model.ts";
import { describeNodeDiff, diffRuns, type RunDiff } from "../engine/run_diff.ts";
import { runWorkflow } from "../engine/run_workflow.ts";
import { getRun, getRunInput } from "../store/runs.ts";
import type { RunRecord } from "../store/types.ts";
import { getWorkflowVersion } from "../store/workflows.ts";
import { offlineServices } from "../modules/offline_services.ts";
import { ENGINE_LOOKUPS } from "../modules/registry.ts";
import { printLine, UsageError } from "./cli_support.ts";
import { describeKv, openCliKv } from "./kv_path.ts";
import { formatTraceTree, formatVerdict } from "./trace_tree.ts";

const RUN_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;

/** True when `text` looks like a run id (a ULID) rather than a file name. */
export function isRunId(text: string): boolean {
  return RUN_ID.test(text);
}

/** A stored run replayed dry. */
export interface StoredDryRun {
  original: RunRecord;
  workflow: Workflow;
  result: RunResult;
  diff: RunDiff;
}

/**
 * Runs stored run `runId`'s input dry, against `workflow` or else the version the run used.
 *
 * @throws {UsageError} when the run, its input or its workflow version is not in the KV (the
 *   message leaves the KV for the caller to name)
 */
export async function dryRunStored(
  kv: Deno.Kv,
  runId: string,
  workflow?: Workflow,
): Promise<StoredDryRun> {
  const original = await getRun(kv, runId);
  if (original === null) throw new UsageError(`No stored run "${runId}"`);
  const input = await getRunInput(kv, runId);
  if (input === null) throw new UsageError(`The input of run "${runId}" is no longer stored`);
  let target = workflow;
  if (target === undefined) {
    const version = await getWorkflowVersion(
      kv,
      original.workflow_id,
      original.workflow_version,
    );
    if (version === null) {
      throw new UsageError(
        `Version ${original.workflow_version} of workflow "${original.workflow_name}" (run "${runId}") is no longer stored`,
      );
    }
    target = version.workflow;
  }
  const result = await runWorkflow(target, input as JsonObject, {
    ...ENGINE_LOOKUPS,
    services: offlineServices(),
    dryRun: true,
    workflowId: original.workflow_id,
  });
  return { original, workflow: target, result, diff: diffRuns(original, result) };
}

/**
 * `dry-run [<workflow>] <run-id> [--json]`: opens the KV of `FLOWGATE_KV`, replays the stored run
 * dry and prints the verdict, the trace and the diff from the stored run.
 *
 * @returns the exit code: 0 allowed, 1 blocked or parked for approval, 2 failure
 */
export async function printStoredDryRun(
  runId: string,
  workflow: Workflow | undefined,
  options: { json: boolean },
): Promise<number> {
  const { kv, path } = await openCliKv({ mustExist: true });
  try {
    const { original, workflow: ran, result, diff } = await dryRunStored(kv, runId, workflow)
      .catch((error) => {
        if (!(error instanceof UsageError)) throw error;
        throw new UsageError(`${error.message} in the KV ${describeKv(path)}`, { cause: error });
      });
    if (options.json) {
      printLine(JSON.stringify({ ...result, replay_of: runId, diff }, null, 2));
    } else {
      printLine(formatVerdict(result));
      printLine(
        `Run "${runId}" (${original.outcome}) replayed dry on workflow "${ran.name}"${
          workflow ? "" : ` version ${original.workflow_version}`
        }:`,
      );
      for (const line of formatTraceTree(result.trace)) printLine(`  ${line}`);
      printLine(
        diff.changed
          ? `Differences from the stored run (${diff.outcome.before} → ${diff.outcome.after}):`
          : "No difference from the stored run",
      );
      for (const node of diff.nodes) printLine(`  ${describeNodeDiff(node)}`);
    }
    if (result.outcome === "success") return 0;
    return result.outcome === "failure" ? 2 : 1;
  } finally {
    kv.close();
  }
}
