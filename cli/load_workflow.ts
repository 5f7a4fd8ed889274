/**
 * Loads a workflow file for the command-line tools: any supported format, one-line errors.
 *
 * @module
 */

import type { Workflow } from "../engine/model.ts";
import { parseWorkflowSource, type WorkflowFormat } from "../engine/workflow_source.ts";
import { MODULE_CATALOG } from "../modules/registry.ts";
import { getTrigger } from "../triggers/catalogue.ts";
import { readInput, UsageError } from "./cli_support.ts";

/** A loaded workflow and the format its file was in. */
export interface LoadedWorkflow {
  workflow: Workflow;
  format: WorkflowFormat;
}

/**
 * Reads and parses `path` (YAML, MISP JSON or blueprint; `trigger` for blueprints that name none;
 * without it such a blueprint loads as a trigger-less draft).
 *
 * @throws {UsageError} when the file cannot be read or parsed, or names an unknown trigger.
 */
export async function loadWorkflow(path: string, trigger?: string): Promise<LoadedWorkflow> {
  if (trigger !== undefined && !getTrigger(trigger)) {
    throw new UsageError(`Unknown trigger "${trigger}" given with --trigger`);
  }
  const text = await readInput(path, "workflow");
  let loaded: LoadedWorkflow;
  try {
    loaded = parseWorkflowSource(text, { filename: path, trigger, catalog: MODULE_CATALOG });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`Cannot load workflow "${path}": ${reason}`, { cause: error });
  }
  // A trigger-less blueprint draft loads as it is; `validate` warns, `dry-run` needs --trigger.
  if (loaded.workflow.trigger !== null && !getTrigger(loaded.workflow.trigger)) {
    throw new UsageError(
      `Cannot load workflow "${path}": unknown trigger "${loaded.workflow.trigger}"`,
    );
  }
  return loaded;
}
