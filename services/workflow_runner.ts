/**
 * The in-process `services.runWorkflow` (`run-workflow`): finds a stored workflow by name, refuses
 * a disabled one or one already running further up the chain, and runs it with the engine, giving
 * the nested run a runner that carries the chain on.
 *
 * @module
 */

import type { JsonObject, RunResult } from "../engine/model.ts";
import type {
  ModuleServices,
  NestedRunOptions,
  WorkflowRunner,
} from "../engine/module_services.ts";
import { getWorkflow } from "../store/workflows.ts";
import { isWorkflowEnabled } from "../store/enabled_workflows.ts";
import { MAX_RUN_NESTING } from "../engine/limits.ts";
import { runWorkflow } from "../engine/run_workflow.ts";
import type { ModuleLookup } from "../engine/walker.ts";
import type { TriggerLookup } from "../engine/trigger_contract.ts";
import { engineOptions } from "./run_and_record.ts";

/** Options of `createWorkflowRunner`. */
export interface WorkflowRunnerOptions {
  /** Where the workflows are stored. */
  kv: Deno.Kv;
  /** The services nested runs get (their `runWorkflow` is replaced by the chained runner). */
  services: ModuleServices;
  /** Where modules are found. */
  modules: ModuleLookup;
  /** Where triggers are found. */
  triggers: TriggerLookup;
  /** Modules switched off by configuration. */
  isDisabled?: (moduleId: string) => boolean;
}

/** A workflow could not be run from another one: unknown, disabled, or re-entrant. */
export class NestedRunError extends Error {
  /** Creates the error; `message` names the workflow and why. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NestedRunError";
  }
}

/**
 * Builds the runner the server passes as `services.runWorkflow`. A run started through it may
 * start others, down to `MAX_RUN_NESTING` levels, never one already in its chain.
 */
export function createWorkflowRunner(options: WorkflowRunnerOptions): WorkflowRunner {
  return chainedRunner(options, []);
}

function chainedRunner(options: WorkflowRunnerOptions, chain: string[]): WorkflowRunner {
  return async (name: string, data: JsonObject, run: NestedRunOptions): Promise<RunResult> => {
    const callers = chain.at(-1) === run.caller ? chain : [...chain, run.caller];
    if (callers.length > MAX_RUN_NESTING) {
      throw new NestedRunError(
        `Cannot run workflow "${name}": ${callers.length} runs are already nested (limit ${MAX_RUN_NESTING})`,
      );
    }
    const stored = await getWorkflow(options.kv, name);
    if (stored === null) {
      throw new NestedRunError(`Cannot run workflow "${name}": no such workflow`);
    }
    if (callers.includes(stored.name)) {
      const path = [...callers, stored.name].map((entry) => `"${entry}"`).join(" → ");
      throw new NestedRunError(
        `Cannot run workflow "${stored.name}": it is already running further up the chain (${path})`,
      );
    }
    if (!isWorkflowEnabled(stored)) {
      throw new NestedRunError(`Cannot run workflow "${stored.name}": it is disabled`);
    }
    const services = {
      ...options.services,
      runWorkflow: chainedRunner(options, [...callers, stored.name]),
    };
    return await runWorkflow(stored.workflow, data, {
      ...engineOptions({ ...options, services }),
      ...(options.isDisabled ? { isDisabled: options.isDisabled } : {}),
      ...(run.dryRun ? { dryRun: true } : {}),
      ...(run.signal ? { signal: run.signal } : {}),
      workflowId: stored.id,
    });
  };
}
