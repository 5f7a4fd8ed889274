/**
 * Enabling a workflow, the one way the API, the console and chat share: a trigger-less draft (a
 * MISP blueprint fragment) is enabled together with the trigger it is given, as a new version.
 *
 * @module
 */

import { attachTrigger } from "../engine/attach_trigger.ts";
import { assertValidWorkflow } from "../engine/validate.ts";
import { MODULE_CATALOG } from "../modules/registry.ts";
import { ConflictError } from "../store/errors.ts";
import type { StoredWorkflow } from "../store/types.ts";
import { replaceWorkflow, setWorkflowEnabled } from "../store/workflows.ts";

/** Options of `enableWorkflow`. */
export interface EnableWorkflowOptions {
  /** Who enables: `api:admin`, `slack:U123`, `console:admin`… */
  actor: string;
  /** The trigger to connect a trigger-less workflow to; must match the trigger of one that has it. */
  trigger?: string;
  /** Clock, for tests. */
  now?: Date;
}

/** The message every surface shows for a trigger-less workflow enabled without a trigger. */
export function needsTriggerMessage(name: string): string {
  return `Workflow "${name}" has no trigger yet: choose a trigger to enable it`;
}

/**
 * Enables `stored`. A workflow without a trigger gets `options.trigger` (its trigger node wired to
 * its entry nodes), is validated and saved enabled as one new version; a workflow with a trigger
 * is only switched on (`options.trigger`, when given, must be that trigger).
 *
 * @throws {ConflictError} when the workflow has no trigger and none is given, it is managed by
 * `FLOWGATE_WORKFLOWS_DIR` and needs a trigger (edit its file), or it changed meanwhile.
 * @throws {AttachTriggerError} (a `SyntaxError`) when the trigger is unknown or differs from the
 * workflow's.
 * @throws {WorkflowValidationError} when the workflow with its trigger does not validate.
 */
export async function enableWorkflow(
  kv: Deno.Kv,
  stored: StoredWorkflow,
  options: EnableWorkflowOptions,
): Promise<StoredWorkflow> {
  const { actor, now } = options;
  if (stored.workflow.trigger !== null || options.trigger === undefined) {
    if (options.trigger !== undefined) {
      attachTrigger(stored.workflow, options.trigger, MODULE_CATALOG);
    }
    if (stored.workflow.trigger === null) throw new ConflictError(needsTriggerMessage(stored.name));
    return await setWorkflowEnabled(kv, stored.id, true, { actor, ...(now ? { now } : {}) });
  }
  if (stored.managed_by === "dir") {
    throw new ConflictError(
      `Cannot choose a trigger for workflow "${stored.name}": it is managed by FLOWGATE_WORKFLOWS_DIR; set "trigger" in its file`,
    );
  }
  const workflow = {
    ...attachTrigger(stored.workflow, options.trigger, MODULE_CATALOG),
    enabled: true,
  };
  assertValidWorkflow(workflow, MODULE_CATALOG);
  return await replaceWorkflow(kv, stored.id, workflow, {
    actor,
    sourceFormat: stored.source_format,
    expectedVersion: stored.version,
    ...(now ? { now } : {}),
  });
}
