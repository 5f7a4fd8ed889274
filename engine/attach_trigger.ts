/**
 * Trigger-less workflows: MISP's blueprints are fragments its editor drops onto a trigger's canvas,
 * so a blueprint without a `[trigger-id]` prefix imports as a draft with no trigger. Choosing a
 * trigger adds the trigger node and connects it to the draft's entry nodes.
 *
 * @module
 */

import type { ModuleCatalog, TriggeredWorkflow, Workflow, WorkflowNode } from "./model.ts";

/** Why a trigger could not be attached (unknown trigger, another trigger); a 400 over HTTP. */
export class AttachTriggerError extends SyntaxError {
  /** Creates the error with its message. */
  constructor(message: string) {
    super(message);
    this.name = "AttachTriggerError";
  }
}

/** The nodes no other node feeds, in node order: where a trigger-less draft's walk would start. */
export function entryNodes(workflow: Workflow): string[] {
  const fed = new Set(workflow.nodes.flatMap((node) => node.next.flat()));
  return workflow.nodes
    .filter((node) => node.kind !== "trigger" && !fed.has(node.id))
    .map((node) => node.id);
}

/**
 * Returns a copy of `workflow` with `trigger` as its trigger: a trigger node connected to the entry
 * nodes (`entryNodes`), and `on_timeout: allow` for a non-blocking trigger. A workflow that already
 * has this trigger is returned as it is. `enabled` is left unchanged.
 *
 * @throws {AttachTriggerError} when `trigger` is not a trigger of the catalog, or the workflow
 * already has another trigger.
 */
export function attachTrigger(
  workflow: Workflow,
  trigger: string,
  catalog: ModuleCatalog,
): TriggeredWorkflow {
  const descriptor = catalog.describe(trigger);
  if (descriptor?.module_type !== "trigger") {
    throw new AttachTriggerError(
      `Unknown trigger "${trigger}": GET /api/triggers lists the trigger ids`,
    );
  }
  if (workflow.trigger !== null) {
    if (workflow.trigger === trigger) return workflow as TriggeredWorkflow;
    throw new AttachTriggerError(
      `Workflow "${workflow.name}" already has trigger "${workflow.trigger}": edit the workflow to change it`,
    );
  }
  const taken = new Set(workflow.nodes.map((node) => node.id));
  let id = ["1", "trigger"].find((candidate) => !taken.has(candidate));
  for (let n = 2; id === undefined; n++) {
    if (!taken.has(`trigger-${n}`)) id = `trigger-${n}`;
  }
  const triggerNode: WorkflowNode = {
    id,
    module: trigger,
    kind: "trigger",
    params: {},
    next: [entryNodes(workflow)],
  };
  return {
    ...workflow,
    trigger,
    "on_timeout": descriptor.blocking ? workflow.on_timeout : "allow",
    nodes: [triggerNode, ...workflow.nodes],
  };
}
