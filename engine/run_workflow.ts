/**
 * One run of one workflow on one payload (MISP's `__runWorkflow`, reference §6.2): trigger
 * normalisation and entry condition, the walk, the outcome and MISP's error strings, plus
 * Flowgate's re-entrancy guard (§6.12).
 *
 * @module
 */

import { createHash } from "node:crypto";
import {
  type DeferredWalk,
  hasTrigger,
  type JsonObject,
  PENDING_APPROVAL_KEY,
  type RunResult,
  type TraceEntry,
  type Workflow,
  type WorkflowNode,
} from "./model.ts";
import type { ModuleServices } from "./module_services.ts";
import type { TriggerLookup } from "./trigger_contract.ts";
import { MAX_RUN_NESTING } from "./limits.ts";
import { type ModuleLookup, walkGraph, type WalkResult } from "./walker.ts";

/** A run this one was started from: MISP called back while that run was in flight. */
export interface RunAncestor {
  /** Workflow id (or name when the workflow has no stored id). */
  workflow: string;
  /** `dataFingerprint` of the data that run was deciding on. */
  fingerprint: string;
}

/**
 * Where a run finds its trigger and its modules. The engine knows neither the registry nor the
 * trigger catalogue: the caller passes them (`ENGINE_LOOKUPS` in `modules/registry.ts`), tests
 * pass their own.
 */
export interface EngineLookups {
  /** The logic and action modules the nodes run. */
  modules: ModuleLookup;
  /** The trigger a workflow starts from. */
  triggers: TriggerLookup;
}

/** Options of `runWorkflow`. */
export interface RunOptions extends EngineLookups {
  /** Services actions use (templates, MISP, mail…). */
  services: ModuleServices;
  /** Actions record what they would do and do nothing outside. */
  dryRun?: boolean;
  /** Aborted when the verdict deadline passes. */
  signal?: AbortSignal;
  /**
   * The verdict deadline as a `performance.now()` time: template renders stop at it even though
   * they are synchronous (see `WalkOptions.deadline`).
   */
  deadline?: number;
  /** Runs this one was started from, outermost first (re-entrancy guard). */
  ancestry?: RunAncestor[];
  /** Id used in error strings and by the re-entrancy guard (default: the workflow's name). */
  workflowId?: string;
  /** Start a deferred sub-walk here: no normalisation, no entry condition, non-blocking path. */
  startNodeId?: string;
  /** Modules switched off by configuration (they fail as MISP's disabled modules do). */
  isDisabled?: (moduleId: string) => boolean;
  /** Clock for durations, in milliseconds (default `performance.now`). */
  now?: () => number;
}

/** MISP's message when a trigger's entry condition refuses the data. */
export const TRIGGER_CONDITION_MESSAGE =
  "Conditions on the trigger are not satisfied to continue the execution";

/**
 * A stable fingerprint of what a run decides on: the event identity (`Event.uuid` and
 * `Event.timestamp`) when there is one, else the whole data. Raw and normalised payloads of one
 * event give the same fingerprint, so the server can compute it before the run starts.
 */
export function dataFingerprint(data: JsonObject): string {
  const event = data.Event;
  const hash = createHash("sha256");
  if (event !== null && typeof event === "object" && !Array.isArray(event)) {
    const { uuid, timestamp } = event as Record<string, unknown>;
    if (typeof uuid === "string" && uuid !== "") {
      return hash.update(`event:${uuid}:${String(timestamp ?? "")}`).digest("hex");
    }
  }
  return hash.update(`data:${stableJson(data)}`).digest("hex");
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    const body = keys.map((key) =>
      `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`
    );
    return `{${body.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * Runs `workflow` on `input` as MISP's `__runWorkflow` does and returns the outcome, errors and
 * trace. Never throws for workflow or data problems: they end as outcome `failure`.
 */
export async function runWorkflow(
  workflow: Workflow,
  input: JsonObject,
  options: RunOptions,
): Promise<RunResult> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const workflowId = options.workflowId ?? workflow.name;
  const finish = (partial: Omit<RunResult, "duration_ms" | "deferred" | "retries">): RunResult => ({
    deferred: [],
    retries: [],
    ...partial,
    duration_ms: now() - started,
  });

  const triggerNode = workflow.nodes.find((node) => node.kind === "trigger");
  if (!hasTrigger(workflow)) {
    const message = `Workflow \`${workflow.name}\` has no trigger: choose a trigger to enable it`;
    return finish(failed(message, triggerNode, workflow, message));
  }
  const trigger = options.triggers(workflow.trigger);
  if (!trigger) {
    const message = `Unknown trigger \`${workflow.trigger}\``;
    return finish(failed(message, triggerNode, workflow, message));
  }
  if (options.startNodeId !== undefined) {
    if (!workflow.nodes.some((node) => node.id === options.startNodeId)) {
      const message = `Invalid start node \`${options.startNodeId}\``;
      return finish(failed(message, triggerNode, workflow, message));
    }
    const walk = await walkFrom(workflow, options.startNodeId, input, "non-blocking", options);
    return finish(fromWalk(walk));
  }
  if (!triggerNode || triggerNode.module !== workflow.trigger) {
    const message = "Invalid start node `-1`";
    return finish(failed(message, triggerNode, workflow, message));
  }

  let data: JsonObject;
  try {
    data = trigger.normalize(input);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const message = `Error while normalizing data for trigger. Error:\n${reason}`;
    return finish(failed(message, triggerNode, workflow, message));
  }

  const guard = reentrancy(workflowId, [input, data], options.ancestry ?? []);
  if (guard !== null) {
    return finish({
      outcome: "success",
      success: true,
      errors: [],
      trace: [traceOf(triggerNode, "guarded", [], guard)],
    });
  }

  if (!trigger.accepts(input, triggerNode.params ?? {})) {
    return finish(
      failed(TRIGGER_CONDITION_MESSAGE, triggerNode, workflow, "Entry condition not satisfied"),
    );
  }

  const forPath = trigger.descriptor.blocking ? "blocking" : "non-blocking";
  const walk = await walkFrom(workflow, triggerNode.id, data, forPath, options);
  return finish(fromWalk(walk));
}

/** Runs one concurrent-task sub-walk (reference §6.7): from its node, on its snapshot. */
export async function runDeferredWalk(
  workflow: Workflow,
  walk: DeferredWalk,
  options: Omit<RunOptions, "startNodeId">,
): Promise<RunResult> {
  return await runWorkflow(workflow, walk.data, { ...options, startNodeId: walk.start_node_id });
}

async function walkFrom(
  workflow: Workflow,
  startNodeId: string,
  data: JsonObject,
  forPath: "blocking" | "non-blocking",
  options: RunOptions,
): Promise<WalkResult> {
  return await walkGraph(workflow, startNodeId, {
    forPath,
    data,
    modules: options.modules,
    services: options.services,
    dryRun: options.dryRun,
    signal: options.signal,
    deadline: options.deadline,
    workflowId: options.workflowId,
    isDisabled: options.isDisabled,
    now: options.now,
  });
}

/**
 * The outcome of a finished walk. MISP says `blocked` when `stop-execution` aborted the walk;
 * Flowgate also says `blocked` when another blocking module returned false on purpose, and
 * `failure` when a blocking module threw, was disabled or missing, or a limit stopped the walk.
 * A block that waits for a human (`PENDING_APPROVAL_KEY` observed) is `pending-approval`.
 */
function fromWalk(walk: WalkResult): Omit<RunResult, "duration_ms"> {
  const result: Omit<RunResult, "duration_ms"> = {
    outcome: "success",
    success: walk.success,
    errors: walk.errors,
    trace: walk.trace,
    deferred: walk.deferred,
    retries: walk.retries,
  };
  if (walk.deciding_node_id !== undefined) result.deciding_node_id = walk.deciding_node_id;
  if (walk.success) return result;
  const vetoed = walk.deciding_module === "stop-execution" ||
    walk.abort_kind === "returned-false";
  result.outcome = vetoed ? "blocked" : "failure";
  if (vetoed && isParked(walk)) result.outcome = "pending-approval";
  return result;
}

/** The deciding node returned false while waiting for an approval (`PENDING_APPROVAL_KEY`). */
function isParked(walk: WalkResult): boolean {
  if (walk.abort_kind !== "returned-false") return false;
  const deciding = walk.trace.findLast((entry) => entry.node_id === walk.deciding_node_id);
  return deciding?.observed?.[PENDING_APPROVAL_KEY] !== undefined;
}

function failed(
  error: string,
  triggerNode: WorkflowNode | undefined,
  workflow: Workflow,
  note: string,
): Omit<RunResult, "duration_ms" | "deferred" | "retries"> {
  const node = triggerNode ??
    { id: "", module: workflow.trigger ?? "", kind: "trigger", params: {}, next: [] };
  const result: Omit<RunResult, "duration_ms" | "deferred" | "retries"> = {
    outcome: "failure",
    success: false,
    errors: [error],
    trace: [traceOf(node, "failure", [error], note)],
  };
  if (triggerNode) result.deciding_node_id = triggerNode.id;
  return result;
}

function traceOf(
  node: WorkflowNode,
  status: TraceEntry["status"],
  errors: string[],
  note: string,
): TraceEntry {
  return {
    seq: 0,
    node_id: node.id,
    module: node.module,
    kind: node.kind,
    status,
    errors,
    duration_ms: 0,
    note,
    path: [],
  };
}

/** Why this run must not walk (re-entrancy guard), or null when it may. */
function reentrancy(
  workflowId: string,
  payloads: JsonObject[],
  ancestry: RunAncestor[],
): string | null {
  if (ancestry.length > MAX_RUN_NESTING) {
    return `Not run: ${ancestry.length} runs are already nested (limit ${MAX_RUN_NESTING}); allowed so the outer operation is not blocked`;
  }
  // Fingerprints are only computed when an ancestor ran this workflow: the common case is free.
  const candidates = ancestry.filter((run) => run.workflow === workflowId);
  if (candidates.length === 0) return null;
  const fingerprints = new Set(payloads.map(dataFingerprint));
  if (candidates.some((run) => fingerprints.has(run.fingerprint))) {
    return `Not run: workflow "${workflowId}" is already running on this data further up the chain (a re-entrant call, e.g. an action that re-published the event); allowed so the outer operation is not blocked`;
  }
  return null;
}
