/**
 * The module contract: a module is a descriptor plus one `exec` function (STYLE.md).
 *
 * @module
 */

import type {
  ActionRecord,
  DeferredWalk,
  JsonObject,
  ModuleDescriptor,
  TriggeredWorkflow,
  WorkflowNode,
} from "./model.ts";
import type { ModuleServices } from "./module_services.ts";

/** The data travelling through a walk (MISP's `WorkflowRoamingData`, reference §6.8.1). */
export interface RoamingView {
  /** The data with active filters applied (do not mutate; use `setData`). */
  getData(): JsonObject;
  /** Replaces the unfiltered data. */
  setData(data: JsonObject): void;
}

/** What `exec` receives for one node execution. */
export interface ModuleContext {
  node: WorkflowNode;
  /** Param values after defaults and Jinja rendering (MISP's `getParamsWithValues`). */
  params: Record<string, unknown>;
  roaming: RoamingView;
  /** Messages pushed here become the node's errors (MISP's `$errors`). */
  errors: string[];
  /** Dry run: record what would be done through `record`, do nothing outside. */
  dryRun: boolean;
  /** Records an action performed or, in a dry run, one that would have been. */
  record(action: ActionRecord): void;
  /** Records a value the node looked at, for traces and "why". */
  observe(key: string, value: unknown): void;
  /** `concurrent-task`: schedules a non-blocking sub-walk on a snapshot. */
  defer(walk: DeferredWalk): void;
  /** The workflow being run (the walker only runs workflows that have a trigger). */
  workflow: TriggeredWorkflow;
  /** The trigger node of the workflow being run. */
  triggerNode: WorkflowNode;
  services: ModuleServices;
  /** Aborted when the run's deadline passes. */
  signal: AbortSignal;
}

/** A workflow module: logic modules return the branch (true → output_1), actions success. */
export interface WorkflowModule {
  descriptor: ModuleDescriptor;
  exec(context: ModuleContext): boolean | Promise<boolean>;
}
