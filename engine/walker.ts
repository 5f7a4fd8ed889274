/**
 * The graph walk of one run (MISP's `Workflow::walkGraph` and `GraphWalker`, reference §6.3–6.5):
 * lazy depth-first pre-order, logic evaluated inline, actions executed when reached, the failure
 * matrix, pruning by edge path, and a trace entry for every visited node.
 *
 * @module
 */

import type {
  ActionRecord,
  ActionRetry,
  DeferredWalk,
  JsonObject,
  TraceEntry,
  TriggeredWorkflow,
  Workflow,
  WorkflowNode,
} from "./model.ts";
import { hasTrigger } from "./model.ts";
import type { ModuleContext, WorkflowModule } from "./module.ts";
import type { ModuleServices, TemplateRenderer } from "./module_services.ts";
import { TransientError } from "./module_errors.ts";
import { MAX_NODE_EXECUTIONS, MAX_WALK_DEPTH } from "./limits.ts";
import { resolveParams } from "./params.ts";
import { RoamingData } from "./roaming_data.ts";
import { Redactor } from "./redactor.ts";

/** Longest wait for the caller's abort after a node failed past the deadline, in milliseconds. */
const DEADLINE_GRACE_MS = 50;

/** MISP's path types: what a walk follows and how a failing non-blocking action is handled. */
export type PathType = "blocking" | "non-blocking";

/** Finds the module a node runs; the registry implements it, tests pass their own. */
export interface ModuleLookup {
  getModule(id: string): WorkflowModule | undefined;
}

/** How the node that ended the walk failed. */
export type AbortKind = "returned-false" | "threw" | "disabled" | "missing" | "limit" | "aborted";

/** Options of `walkGraph`. */
export interface WalkOptions {
  /** `blocking` for blocking triggers, `non-blocking` otherwise and for concurrent sub-walks. */
  forPath: PathType;
  /** The roaming data the walk starts with (normalised, or a sub-walk's snapshot). */
  data: JsonObject;
  modules: ModuleLookup;
  services: ModuleServices;
  /** Actions record what they would do and do nothing outside. */
  dryRun?: boolean;
  /** Aborted when the run's deadline passes: the walk stops before the next node. */
  signal?: AbortSignal;
  /**
   * The run's deadline as a `performance.now()` time. Template renders stop at it (they are
   * synchronous, so the abort signal alone could not interrupt them), and a node that failed past
   * it lets the caller's deadline timer fire before the walk goes on, so the caller sees the
   * timeout (and applies `on_timeout`) rather than the node's failure.
   */
  deadline?: number;
  /** Workflow id used in MISP-style error strings (default: the workflow's name). */
  workflowId?: string;
  /** Modules switched off by configuration: they fail as MISP's disabled modules do. */
  isDisabled?: (moduleId: string) => boolean;
  /** Clock for durations, in milliseconds (default `performance.now`). */
  now?: () => number;
}

/** What a walk produced (MISP's `walkResult` plus Flowgate's trace and queues). */
export interface WalkResult {
  /** MISP's walk result: false when a blocking module failed (or a limit stopped the walk). */
  success: boolean;
  /** MISP-style error strings of failed action nodes. */
  errors: string[];
  executed_nodes: string[];
  /** Every failed action node, blocking or not (MISP's naming). */
  blocking_nodes: string[];
  blocked_paths: string[][];
  trace: TraceEntry[];
  deferred: DeferredWalk[];
  retries: ActionRetry[];
  /** The node that aborted the walk. */
  deciding_node_id?: string;
  /** The module of that node and how it failed. */
  deciding_module?: string;
  abort_kind?: AbortKind;
}

interface NodeOutcome {
  ok: boolean;
  errors: string[];
  failed: boolean;
  thrown?: unknown;
  kind?: AbortKind;
  module?: WorkflowModule;
  actions: ActionRecord[];
  observed?: JsonObject;
  deferred: DeferredWalk[];
  duration: number;
}

class WalkStop extends Error {
  constructor(readonly reason: AbortKind, message: string) {
    super(message);
    this.name = "WalkStop";
  }
}

/**
 * Walks `workflow` from `startNodeId` exactly as MISP does and executes its nodes. Never throws for
 * module failures: they become trace entries, errors and the walk's success flag.
 *
 * @throws {RangeError} when `startNodeId` is not a node of the workflow, or the workflow has no
 * trigger (a trigger-less blueprint draft never runs)
 */
export async function walkGraph(
  workflow: Workflow,
  startNodeId: string,
  options: WalkOptions,
): Promise<WalkResult> {
  if (!hasTrigger(workflow)) {
    throw new RangeError(
      `Cannot walk workflow "${workflow.name}": it has no trigger; choose a trigger to enable it`,
    );
  }
  const walker = new Walker(workflow, options);
  return await walker.run(startNodeId);
}

class Walker {
  readonly #workflow: TriggeredWorkflow;
  readonly #options: WalkOptions;
  readonly #nodes = new Map<string, WorkflowNode>();
  readonly #triggerNode: WorkflowNode;
  readonly #roaming: RoamingData;
  readonly #redactor: Redactor;
  readonly #now: () => number;
  readonly #preventPaths: string[][] = [];
  readonly #result: WalkResult = {
    success: true,
    errors: [],
    executed_nodes: [],
    blocking_nodes: [],
    blocked_paths: [],
    trace: [],
    deferred: [],
    retries: [],
  };
  #executions = 0;

  constructor(workflow: TriggeredWorkflow, options: WalkOptions) {
    this.#workflow = workflow;
    this.#options = options;
    for (const node of workflow.nodes) this.#nodes.set(node.id, node);
    this.#triggerNode = workflow.nodes.find((node) => node.kind === "trigger") ??
      workflow.nodes[0] as WorkflowNode;
    this.#roaming = new RoamingData(options.data);
    this.#redactor = new Redactor(options.services.secrets);
    this.#now = options.now ?? (() => performance.now());
    for (const node of workflow.nodes) this.#collectSecrets(node, node.params);
  }

  async run(startNodeId: string): Promise<WalkResult> {
    if (!this.#nodes.has(startNodeId)) {
      throw new RangeError(
        `Cannot walk workflow "${this.#workflow.name}": no node "${startNodeId}"`,
      );
    }
    try {
      await this.#visit(startNodeId, this.#options.forPath, []);
    } catch (error) {
      this.#result.success = false;
      if (!(error instanceof WalkStop)) {
        // The walker itself failed (e.g. an enabled filter meeting data PHP would crash on).
        const message = error instanceof Error ? error.message : String(error);
        this.#result.errors.push(`Walk stopped by an internal error: ${message}`);
        this.#result.abort_kind = "threw";
      } else if (error.reason === "limit" || error.reason === "aborted") {
        this.#result.errors.push(error.message);
        this.#result.abort_kind = error.reason;
      }
    }
    this.#result.errors = this.#result.errors.map((text) => this.#redactor.text(text));
    return this.#result;
  }

  #collectSecrets(node: WorkflowNode, values: Record<string, unknown> | undefined): void {
    const module = this.#options.modules.getModule(node.module);
    if (!module || !values || Array.isArray(values)) return;
    for (const param of module.descriptor.params) {
      if (param.secret) this.#redactor.add(values[param.id]);
    }
  }

  /** MISP's `_walk` with the consumer loop of `walkGraph` folded in (same order, same laziness). */
  async #visit(nodeId: string, pathType: PathType, pathList: string[]): Promise<void> {
    const node = this.#nodes.get(nodeId);
    if (!node) {
      this.#trace({
        node: { id: nodeId, module: "", kind: "action", params: {}, next: [] },
        status: "skipped",
        errors: [],
        path: pathList,
        note: `Edge leads to unknown node "${nodeId}"`,
      });
      return;
    }
    if (pathList.length > MAX_WALK_DEPTH) {
      throw new WalkStop("limit", `Walk stopped: path deeper than ${MAX_WALK_DEPTH} edges`);
    }
    let outputs: [number, string[]][] = node.next.map((targets, index) => [index, targets]);
    if (node.kind === "action") {
      await this.#consumeAction(node, pathType, pathList);
    } else if (node.kind === "logic") {
      outputs = await this.#evaluateLogic(node, pathList);
    } else {
      this.#trace({ node, status: "success", branch: "next", errors: [], path: pathList });
    }
    for (const [index, targets] of outputs) {
      const outputId = `output_${index + 1}`;
      if (node.kind === "logic" && node.module === "concurrent-task") pathType = "non-blocking";
      if (pathType !== this.#options.forPath) continue;
      for (const [connIdx, target] of targets.entries()) {
        const edge = `${node.id}:${outputId}:${connIdx}:${target}`;
        if (pathList.includes(edge)) continue;
        await this.#visit(target, pathType, [...pathList, edge]);
      }
    }
  }

  async #consumeAction(node: WorkflowNode, pathType: PathType, pathList: string[]): Promise<void> {
    const prevented = this.#preventPaths.find((prefix) => isPrefix(prefix, pathList));
    if (prevented) {
      this.#result.blocked_paths.push(pathList);
      const failedEdge = prevented[prevented.length - 1] ?? "";
      const failedNode = failedEdge.split(":")[3] ?? "";
      this.#trace({
        node,
        status: "skipped",
        errors: [],
        path: pathList,
        note: `Skipped: action node "${failedNode}" above it failed on a non-blocking path`,
      });
      return;
    }
    const outcome = await this.#executeNode(node);
    this.#result.executed_nodes.push(node.id);
    this.#trace({
      node,
      status: outcome.ok ? "success" : "failure",
      result: outcome.ok,
      errors: outcome.errors,
      path: pathList,
      duration: outcome.duration,
      actions: outcome.actions,
      observed: outcome.observed,
    });
    if (outcome.ok) return;
    this.#result.blocking_nodes.push(node.id);
    if (outcome.errors.length > 0) {
      this.#result.errors.push(
        `Node \`${node.module}\` (${node.id}) from Workflow \`${this.#workflow.name}\` (${this.#workflowId()}) returned the following error: ${
          outcome.errors.join(", ")
        }`,
      );
    }
    const blocking = outcome.module?.descriptor.blocking === true;
    if (!blocking && outcome.thrown instanceof TransientError) {
      this.#result.retries.push({
        node_id: node.id,
        data: this.#roaming.getData(),
        error: this.#redactor.text(outcome.thrown.message),
      });
    }
    if (blocking) {
      this.#result.deciding_node_id = node.id;
      this.#result.deciding_module = node.module;
      this.#result.abort_kind = outcome.kind ?? "returned-false";
      throw new WalkStop(outcome.kind ?? "returned-false", "Blocking module failed");
    }
    if (pathType === "non-blocking") this.#preventPaths.push(pathList);
  }

  /** MISP's `_executeModuleLogic`: which outputs the walk follows after a logic node. */
  async #evaluateLogic(node: WorkflowNode, pathList: string[]): Promise<[number, string[]][]> {
    const first = node.next[0] ?? [];
    if (node.module === "concurrent-task") {
      const started = this.#now();
      const errors: string[] = [];
      const deferred: DeferredWalk[] = [];
      let failed = false;
      for (const target of first) {
        this.#roaming.setData({ ...this.#roaming.getData(), __node_id_to_exec: target });
        const outcome = await this.#executeNode(node);
        errors.push(...outcome.errors);
        deferred.push(...outcome.deferred);
        failed ||= outcome.failed;
      }
      const targets = deferred.map((walk) => `"${walk.start_node_id}"`).join(", ");
      this.#trace({
        node,
        status: failed ? "failure" : "success",
        branch: "none",
        errors,
        path: pathList,
        duration: this.#now() - started,
        note: deferred.length > 0
          ? `Deferred ${deferred.length} sub-walk(s) starting at ${targets}; nothing runs inline`
          : "No sub-walk deferred; nothing runs inline",
      });
      return [[0, []]];
    }
    const outcome = await this.#executeNode(node);
    const isFilter = node.module === "generic-filter-data" ||
      node.module === "generic-filter-reset";
    const branch = isFilter
      ? "next"
      : outcome.ok
      ? (node.next.length > 1 || (outcome.module?.descriptor.outputs ?? 2) > 1 ? "then" : "next")
      : (node.next.length > 1 || (outcome.module?.descriptor.outputs ?? 2) > 1 ? "else" : "none");
    this.#trace({
      node,
      status: outcome.failed ? "failure" : "success",
      branch,
      result: outcome.ok,
      errors: outcome.errors,
      path: pathList,
      duration: outcome.duration,
      observed: outcome.observed,
      actions: outcome.actions,
    });
    if (isFilter || outcome.ok) return [[0, first]];
    return [[1, node.next[1] ?? []]];
  }

  /** MISP's `executeNode`: disabled and missing modules, params, exec, thrown errors. */
  async #executeNode(node: WorkflowNode): Promise<NodeOutcome> {
    const started = this.#now();
    const outcome: NodeOutcome = {
      ok: false,
      errors: [],
      failed: true,
      actions: [],
      deferred: [],
      duration: 0,
    };
    const signal = this.#options.signal ?? new AbortController().signal;
    if (signal.aborted) {
      throw new WalkStop("aborted", `Run aborted before node "${node.id}": ${abortReason(signal)}`);
    }
    this.#executions += 1;
    if (this.#executions > MAX_NODE_EXECUTIONS) {
      throw new WalkStop(
        "limit",
        `Walk stopped: more than ${MAX_NODE_EXECUTIONS} node executions in one run`,
      );
    }
    const module = this.#options.modules.getModule(node.module);
    outcome.module = module;
    if (module && this.#options.isDisabled?.(node.module)) {
      outcome.errors.push(`Could not execute disabled module \`${node.module}\`.`);
      outcome.kind = "disabled";
    } else if (!module) {
      outcome.errors.push(`Could not load class for module: ${node.module}`);
      outcome.kind = "missing";
    } else {
      const observed: JsonObject = {};
      const errors: string[] = [];
      try {
        const params = resolveParams(
          module.descriptor,
          node,
          this.#roaming.getData(),
          this.#renderer(signal),
        );
        this.#collectSecrets(node, params);
        const context: ModuleContext = {
          node,
          params,
          roaming: this.#roaming,
          errors,
          dryRun: this.#options.dryRun ?? false,
          record: (action) => outcome.actions.push(action),
          observe: (key, value) => {
            observed[key] = value;
          },
          defer: (walk) => {
            outcome.deferred.push(walk);
            this.#result.deferred.push(walk);
          },
          workflow: this.#workflow,
          triggerNode: this.#triggerNode,
          services: this.#options.services,
          signal,
        };
        outcome.ok = (await module.exec(context)) === true;
        outcome.failed = false;
        outcome.errors.push(...errors);
        if (!outcome.ok) outcome.kind = "returned-false";
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        outcome.errors.push(
          ...errors,
          `Error while executing module ${node.module}. Error: ${message}`,
        );
        outcome.thrown = error;
        outcome.kind = "threw";
      }
      if (Object.keys(observed).length > 0) outcome.observed = observed;
    }
    outcome.duration = this.#now() - started;
    if (outcome.thrown !== undefined) await this.#yieldPastDeadline(signal);
    return outcome;
  }

  /** The services' renderer, bound to the run's abort signal and deadline. */
  #renderer(signal: AbortSignal): TemplateRenderer {
    const render = this.#options.services.renderTemplate;
    const deadline = this.#options.deadline;
    return (template, data, options) => render(template, data, { ...options, signal, deadline });
  }

  /**
   * Past the deadline, waits (briefly) for the abort signal: the caller's deadline timer could
   * not fire while a synchronous render ran, and must win over the failure that render caused.
   */
  async #yieldPastDeadline(signal: AbortSignal): Promise<void> {
    const deadline = this.#options.deadline;
    if (deadline === undefined || signal.aborted || performance.now() < deadline) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, DEADLINE_GRACE_MS);
      signal.addEventListener("abort", done, { once: true });
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
    });
  }

  #trace(entry: {
    node: WorkflowNode;
    status: TraceEntry["status"];
    errors: string[];
    path: string[];
    branch?: string;
    result?: boolean;
    duration?: number;
    actions?: ActionRecord[];
    observed?: JsonObject;
    note?: string;
  }): void {
    const redact = this.#redactor;
    const trace: TraceEntry = {
      seq: this.#result.trace.length,
      node_id: entry.node.id,
      module: entry.node.module,
      kind: entry.node.kind,
      status: entry.status,
      errors: entry.errors.map((text) => redact.text(text)),
      duration_ms: entry.duration ?? 0,
      path: entry.path,
    };
    if (entry.branch !== undefined) trace.branch = entry.branch;
    if (entry.result !== undefined) trace.result = entry.result;
    if (entry.observed) trace.observed = redact.value(entry.observed);
    if (entry.actions && entry.actions.length > 0) trace.actions = redact.value(entry.actions);
    if (entry.note !== undefined) trace.note = redact.text(entry.note);
    this.#result.trace.push(trace);
  }

  #workflowId(): string {
    return this.#options.workflowId ?? this.#workflow.name;
  }
}

function isPrefix(prefix: string[], path: string[]): boolean {
  if (prefix.length > path.length) return false;
  return prefix.every((edge, index) => path[index] === edge);
}

function abortReason(signal: AbortSignal): string {
  const reason = signal.reason;
  return reason instanceof Error ? reason.message : String(reason ?? "aborted");
}
