/** `deno task dry-run <workflow> <event.json> [--trigger ID] [--json]`: runs a workflow on a payload without side effects; with a stored run id instead of the payload (or alone), replays that run from `FLOWGATE_KV` and shows the diff. @module */

import type { JsonObject, RunResult } from "../engine/model.ts";
import { InProcessDeferredRunner, scheduleDeferred } from "../engine/deferred.ts";
import { runWorkflow } from "../engine/run_workflow.ts";
import { validateWorkflow } from "../engine/validate.ts";
import { ENGINE_LOOKUPS, MODULE_CATALOG } from "../modules/registry.ts";
import { requireTrigger } from "../triggers/catalogue.ts";
import {
  EXIT_BAD_INPUT,
  oneLine,
  parseArgs,
  printLine,
  readInput,
  runCli,
  UsageError,
} from "./cli_support.ts";
import { offlineServices } from "../modules/offline_services.ts";
import { loadWorkflow } from "./load_workflow.ts";
import { isRunId, printStoredDryRun } from "./stored_run.ts";
import { formatTraceTree, formatVerdict } from "./trace_tree.ts";

const USAGE =
  "Usage: dry-run <workflow> <event.json | run-id> [--trigger ID] [--json], or dry-run <run-id> [--json]";

async function readPayload(path: string): Promise<JsonObject> {
  const text = await readInput(path, "payload");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`Cannot read payload "${path}": invalid JSON: ${reason}`, {
      cause: error,
    });
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new UsageError(`Cannot read payload "${path}": expected a JSON object`);
  }
  return json as JsonObject;
}

function exitCode(result: RunResult): number {
  if (result.outcome === "success") return 0;
  return result.outcome === "blocked" ? 1 : EXIT_BAD_INPUT;
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args, { options: ["trigger"], flags: ["json"] });
  const [workflowPath, payloadPath, ...extra] = args.positional;
  const json = args.flags.has("json");
  if (workflowPath !== undefined && payloadPath === undefined && isRunId(workflowPath)) {
    return await printStoredDryRun(workflowPath, undefined, { json });
  }
  if (workflowPath === undefined || payloadPath === undefined || extra.length > 0) {
    throw new UsageError(USAGE);
  }
  const { workflow } = await loadWorkflow(workflowPath, args.options.get("trigger"));
  const { errors } = validateWorkflow(workflow, MODULE_CATALOG);
  const [first] = errors;
  if (first) {
    throw new UsageError(
      `Invalid workflow "${workflowPath}": ${first.message}${
        errors.length > 1 ? ` (and ${errors.length - 1} more; run validate)` : ""
      }`,
    );
  }
  if (isRunId(payloadPath)) return await printStoredDryRun(payloadPath, workflow, { json });
  const payload = await readPayload(payloadPath);
  try {
    requireTrigger(workflow.trigger).normalize(payload);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `Payload "${payloadPath}" does not fit trigger "${workflow.trigger}": ${oneLine(reason)}`,
      { cause: error },
    );
  }
  const services = offlineServices();
  const result = await runWorkflow(workflow, payload, {
    ...ENGINE_LOOKUPS,
    services,
    dryRun: true,
  });
  const runner = new InProcessDeferredRunner({ ...ENGINE_LOOKUPS, services });
  await scheduleDeferred(runner, result, { workflow, dryRun: true });
  const deferred = await runner.drain();
  if (json) {
    printLine(JSON.stringify({ ...result, deferred_results: deferred }, null, 2));
    return exitCode(result);
  }
  printLine(formatVerdict(result));
  printLine(`Workflow "${workflow.name}" on trigger ${workflow.trigger} (dry run):`);
  for (const line of formatTraceTree(result.trace)) printLine(`  ${line}`);
  for (const [index, sub] of deferred.entries()) {
    printLine(`Deferred sub-walk ${index + 1} (after the verdict): ${sub.outcome}`);
    for (const line of formatTraceTree(sub.trace)) printLine(`  ${line}`);
  }
  return exitCode(result);
}

if (import.meta.main) await runCli(main);
