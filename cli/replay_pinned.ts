/**
 * `deno task replay-pinned [<pinned-dir>] [--workflows <dir>]`: replays every pinned run (a JSON
 * file: workflow name, exact input, expected outcome) dry against the current workflow files and
 * exits 1 when a verdict flipped, so a workflow change that would let through (or block) a past
 * event fails CI.
 *
 * @module
 */

import type { JsonObject, Outcome, TraceEntry } from "../engine/model.ts";
import { describeNodeDiff, diffRuns } from "../engine/run_diff.ts";
import { runWorkflow } from "../engine/run_workflow.ts";
import type { Workflow } from "../engine/model.ts";
import { offlineServices } from "../modules/offline_services.ts";
import { ENGINE_LOOKUPS } from "../modules/registry.ts";
import { parseArgs, printLine, runCli, UsageError } from "./cli_support.ts";
import { loadWorkflow } from "./load_workflow.ts";

const USAGE = "Usage: replay-pinned [<pinned-dir>] [--workflows <dir>]";

const HELP = `${USAGE}

Replays every pinned run (*.json: workflow name, exact input, expected outcome) dry against the
current workflow files and exits 1 when a verdict flipped, 0 when none did, 2 on bad input.

Arguments:
  <pinned-dir>       the pinned runs (default examples/pinned)

Options:
  --workflows <dir>  the workflow files (default examples)
  --help, -h         this help`;
/** Where pinned runs are looked for by default. */
export const DEFAULT_PINNED_DIR = "examples/pinned";
/** Where the workflows are looked for by default. */
export const DEFAULT_WORKFLOWS_DIR = "examples";
const OUTCOMES: readonly Outcome[] = ["success", "blocked", "failure", "pending-approval"];
const WORKFLOW_FILE = /\.(ya?ml|json)$/i;

/** A pinned run: a past payload and the verdict it must keep. */
export interface PinnedRun {
  /** What the pin guards, for humans. */
  name: string;
  /** Workflow name, as in the workflow file. */
  workflow: string;
  /** The exact input of the run. */
  input: JsonObject;
  expected: { outcome: Outcome; "deciding_node_id"?: string };
  /** The run it was pinned from, when it came from production. */
  "run_id"?: string;
  /** The pinned run's trace, to show a node-by-node diff when the verdict flips. */
  trace?: TraceEntry[];
}

/** The verdict of one pinned run replayed. */
export interface PinnedResult {
  file: string;
  pinned: PinnedRun;
  outcome: Outcome;
  "deciding_node_id"?: string;
  /** The outcome or the deciding node differs from the pinned ones. */
  flipped: boolean;
  /** Node-by-node differences (from the pinned trace, when it has one). */
  changes: string[];
}

/**
 * Parses a pinned run file.
 *
 * @throws {UsageError} when a field is missing or of the wrong type
 */
export function parsePinnedRun(text: string, file: string): PinnedRun {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`Cannot read pinned run "${file}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  const pinned = value as Partial<PinnedRun> | null;
  const problem = pinned === null || typeof pinned !== "object"
    ? "expected a JSON object"
    : typeof pinned.workflow !== "string"
    ? 'field "workflow" must be a workflow name'
    : typeof pinned.input !== "object" || pinned.input === null || Array.isArray(pinned.input)
    ? 'field "input" must be a JSON object'
    : !OUTCOMES.includes(pinned.expected?.outcome as Outcome)
    ? `field "expected.outcome" must be one of ${OUTCOMES.join(", ")}`
    : undefined;
  if (problem !== undefined) throw new UsageError(`Cannot read pinned run "${file}": ${problem}`);
  return { name: file, ...pinned } as PinnedRun;
}

/** Replays one pinned run dry against `workflow` and compares the verdicts. */
export async function replayPinned(
  file: string,
  pinned: PinnedRun,
  workflow: Workflow,
): Promise<PinnedResult> {
  const result = await runWorkflow(workflow, pinned.input, {
    ...ENGINE_LOOKUPS,
    services: offlineServices(),
    dryRun: true,
  });
  const expectedNode = pinned.expected.deciding_node_id;
  const flipped = result.outcome !== pinned.expected.outcome ||
    (expectedNode !== undefined && expectedNode !== result.deciding_node_id);
  const changes = pinned.trace
    ? diffRuns(
      {
        outcome: pinned.expected.outcome,
        ...(expectedNode === undefined ? {} : { deciding_node_id: expectedNode }),
        trace: pinned.trace,
      },
      result,
    ).nodes.map(describeNodeDiff)
    : [];
  return {
    file,
    pinned,
    outcome: result.outcome,
    ...(result.deciding_node_id === undefined ? {} : { deciding_node_id: result.deciding_node_id }),
    flipped,
    changes,
  };
}

async function loadWorkflows(dir: string): Promise<Map<string, Workflow>> {
  const byName = new Map<string, Workflow>();
  for (const file of await sortedFiles(dir, WORKFLOW_FILE)) {
    const { workflow } = await loadWorkflow(`${dir}/${file}`);
    byName.set(workflow.name, workflow);
  }
  return byName;
}

async function sortedFiles(dir: string, pattern: RegExp): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && pattern.test(entry.name)) names.push(entry.name);
    }
  } catch (error) {
    throw new UsageError(`Cannot read directory "${dir}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  return names.sort();
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args, { options: ["workflows"], help: HELP });
  const [pinnedDir = DEFAULT_PINNED_DIR, ...extra] = args.positional;
  if (extra.length > 0) throw new UsageError(USAGE);
  const workflows = await loadWorkflows(args.options.get("workflows") ?? DEFAULT_WORKFLOWS_DIR);
  const files = await sortedFiles(pinnedDir, /\.json$/i);
  if (files.length === 0) throw new UsageError(`No pinned runs (*.json) in "${pinnedDir}"`);
  let flips = 0;
  for (const file of files) {
    const path = `${pinnedDir}/${file}`;
    const pinned = parsePinnedRun(await Deno.readTextFile(path), path);
    const workflow = workflows.get(pinned.workflow);
    if (workflow === undefined) {
      throw new UsageError(`Pinned run "${path}": no workflow named "${pinned.workflow}"`);
    }
    const result = await replayPinned(path, pinned, workflow);
    if (!result.flipped) {
      printLine(`ok      ${path}: ${result.outcome} (${pinned.name})`);
      continue;
    }
    flips++;
    printLine(
      `FLIPPED ${path}: expected ${pinned.expected.outcome}${
        pinned.expected.deciding_node_id ? ` at "${pinned.expected.deciding_node_id}"` : ""
      }, now ${result.outcome}${
        result.deciding_node_id ? ` at "${result.deciding_node_id}"` : ""
      } (${pinned.name})`,
    );
    for (const change of result.changes) printLine(`  ${change}`);
  }
  printLine(`${files.length} pinned run(s), ${flips} flipped`);
  return flips === 0 ? 0 : 1;
}

if (import.meta.main) await runCli(main);
