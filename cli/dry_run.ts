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
import { createEnrichmentInputs } from "../modules/action/lib/enrichment_inputs.ts";
import { loadWorkflow } from "./load_workflow.ts";
import { KV_HELP } from "./kv_path.ts";
import { isRunId, printStoredDryRun } from "./stored_run.ts";
import { formatTraceTree, formatVerdict } from "./trace_tree.ts";

const USAGE =
  "Usage: dry-run <workflow> <event.json | run-id> [--trigger ID] [--json], or dry-run <run-id> [--json]";

const HELP = `${USAGE}

Runs a workflow file on an event as MISP would send it, every action only recording what it would
do, and prints the verdict and the trace. With a stored run id instead of the event, replays that
run's exact input from the KV; with a run id alone, against the workflow version it ran with; and
shows what changed from the stored run.

Exit codes: 0 allowed, 1 blocked, 3 parked for approval, 2 error or bad input.

Options:
  --trigger ID  the trigger of a blueprint that names none
  --json        print the run as JSON
  --help, -h    this help

${KV_HELP} (for run ids)`;

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

/** Exit code of a dry run that parked for approval (`require-approval`): neither allowed nor blocked. */
const EXIT_PENDING_APPROVAL = 3;

/** 0 allowed, 1 blocked, 2 error, 3 pending approval (README "Working with workflows…"). */
function exitCode(result: RunResult): number {
  switch (result.outcome) {
    case "success":
      return 0;
    case "blocked":
      return 1;
    case "pending-approval":
      return EXIT_PENDING_APPROVAL;
    default:
      return EXIT_BAD_INPUT;
  }
}

/**
 * The misp-modules server whose listing tells enrichment nodes which attribute types each module
 * takes (`FLOWGATE_MISP_MODULES_URL`), when the dry run may reach it (`--allow-net`); without it
 * every attribute is shown as queried.
 */
function mispModulesUrl(): string | undefined {
  const text = Deno.env.get("FLOWGATE_MISP_MODULES_URL")?.trim().replace(/\/+$/, "");
  if (!text || !URL.canParse(text)) return undefined;
  const host = new URL(text).host;
  return Deno.permissions.querySync({ name: "net", host }).state === "granted" ? text : undefined;
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args, { options: ["trigger"], flags: ["json"], help: HELP });
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
  if (workflow.trigger === null) {
    throw new UsageError(
      `Workflow "${workflowPath}" has no trigger yet: choose one with --trigger <id> to dry-run it`,
    );
  }
  try {
    requireTrigger(workflow.trigger).normalize(payload);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `Payload "${payloadPath}" does not fit trigger "${workflow.trigger}": ${oneLine(reason)}`,
      { cause: error },
    );
  }
  const modulesUrl = mispModulesUrl();
  const services = offlineServices(
    modulesUrl ? { enrichmentInputs: createEnrichmentInputs(modulesUrl) } : {},
  );
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
