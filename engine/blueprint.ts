/**
 * MISP workflow blueprints (reference §2.3): reusable node fragments, imported as a whole workflow
 * for a trigger (or as a trigger-less draft) and exported in MISP's blueprint file format.
 *
 * @module
 */

import {
  buildDrawflowGraph,
  decodeJsonField,
  type DrawflowNode,
  readDrawflowNode,
  toWorkflowName,
} from "./misp_codec.ts";
import type { ModuleCatalog, Workflow, WorkflowNode } from "./model.ts";
import { assertNodeCount } from "./workflow_limits.ts";
import { WorkflowSyntaxError } from "./workflow_syntax_error.ts";
import { DEFAULT_WORKFLOW_ORDER } from "./yaml_codec.ts";

/** Options of `importBlueprint`. */
export interface ImportBlueprintOptions {
  /** Trigger to attach the fragment to; else the description's `[trigger-id]` prefix. */
  trigger?: string;
  /** Drops edges on outputs a module does not have (as MISP's insert) and sets `on_timeout`. */
  catalog?: ModuleCatalog;
}

/** A blueprint file as MISP exports it. */
export interface BlueprintExport {
  WorkflowBlueprint: {
    uuid: string;
    name: string;
    description: string;
    timestamp: string;
    default: false;
    data: DrawflowNode[];
  };
}

const TRIGGER_PREFIX = /^\s*\[([A-Za-z0-9_-]+)\]\s*/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Imports a blueprint as a disabled workflow: MISP's editor drops a blueprint onto the canvas of
 * the workflow being edited, so an imported blueprint never starts running by itself. The trigger
 * comes from `options.trigger`, the `[trigger-id]` prefix of the description, or the blueprint's
 * own trigger node. Blueprint trigger nodes are skipped; nodes fed from outside the blueprint, or
 * fed by nothing, hang off the new trigger (the blueprint trigger's edges first, then node order);
 * edges to missing nodes are dropped as MISP does on insert. A blueprint with no trigger at all
 * (MISP's `curation-*` blueprints) becomes a trigger-less draft (`trigger: null`, no trigger
 * node) to which `attachTrigger` later connects a trigger.
 *
 * @throws {WorkflowSyntaxError} when the JSON is not a blueprint.
 * @throws {WorkflowLimitError} when it has more than `MAX_NODES` nodes (with the new trigger) or
 * params nested deeper than `MAX_DATA_DEPTH`.
 */
export function importBlueprint(json: unknown, options: ImportBlueprintOptions = {}): Workflow {
  const record = isObject(json) && isObject(json.WorkflowBlueprint) ? json.WorkflowBlueprint : json;
  if (!isObject(record)) {
    throw new WorkflowSyntaxError('Expected a blueprint: {"WorkflowBlueprint": {…, "data": […]}}');
  }
  const data = decodeJsonField(record.data, "data");
  if (!Array.isArray(data)) {
    throw new WorkflowSyntaxError('Field "data": expected the list of blueprint nodes', {
      field: "data",
    });
  }
  const rawNodes = data.map((raw, index) => {
    const id = isObject(raw) && (typeof raw.id === "number" || typeof raw.id === "string")
      ? String(raw.id)
      : undefined;
    if (id === undefined) {
      throw new WorkflowSyntaxError(`Field "data.${index}": expected a node with an id`, {
        field: `data.${index}`,
      });
    }
    return { raw: raw as Record<string, unknown>, node: readDrawflowNode(id, raw) };
  });
  const blueprintTriggers = rawNodes.filter(({ node }) => node.kind === "trigger");
  const description = typeof record.description === "string" ? record.description : "";
  const prefix = TRIGGER_PREFIX.exec(description);
  const trigger = options.trigger ?? prefix?.[1] ?? blueprintTriggers[0]?.node.module;
  const title = typeof record.name === "string" && record.name !== "" ? record.name : "blueprint";
  const nodes = rawNodes.filter(({ node }) => node.kind !== "trigger");
  assertNodeCount(toWorkflowName(title), nodes.length + 1);
  const kept = new Set(nodes.map(({ node }) => node.id));
  for (const { node } of nodes) {
    const outputs = options.catalog?.describe(node.module)?.outputs;
    node.next = node.next
      .slice(0, outputs ?? node.next.length)
      .map((targets) => targets.filter((target) => kept.has(target)));
  }
  const fedInside = new Set(nodes.flatMap(({ node }) => node.next.flat()));
  const fedOutside = new Set<string>();
  for (const { raw, node } of nodes) {
    const sources = inputSources(raw);
    if (sources.some((source) => !kept.has(source))) fedOutside.add(node.id);
  }
  const draft: Workflow = {
    name: toWorkflowName(title),
    description: description.replace(TRIGGER_PREFIX, "").trim(),
    trigger: null,
    enabled: false,
    order: DEFAULT_WORKFLOW_ORDER,
    "on_timeout": "block",
    nodes: nodes.map(({ node }) => node),
  };
  if (trigger === undefined) return draft;
  const start: string[] = [];
  for (const { node } of blueprintTriggers) {
    for (const target of node.next.flat()) {
      if (kept.has(target) && !start.includes(target)) start.push(target);
    }
  }
  for (const { node } of nodes) {
    const root = fedOutside.has(node.id) || !fedInside.has(node.id);
    if (root && !start.includes(node.id)) start.push(node.id);
  }
  const triggerId = [blueprintTriggers[0]?.node.id, "1", "trigger"].find((id) =>
    id !== undefined && !kept.has(id)
  ) as string;
  const triggerNode: WorkflowNode = {
    id: triggerId,
    module: trigger,
    kind: "trigger",
    params: blueprintTriggers[0]?.node.module === trigger ? blueprintTriggers[0].node.params : {},
    next: [start],
  };
  const blocking = options.catalog?.describe(trigger)?.blocking;
  return {
    ...draft,
    trigger,
    "on_timeout": blocking === false ? "allow" : "block",
    nodes: [triggerNode, ...draft.nodes],
  };
}

function inputSources(raw: Record<string, unknown>): string[] {
  const inputs = raw.inputs;
  if (!isObject(inputs)) return [];
  return Object.values(inputs).flatMap((input) => {
    const connections = isObject(input) ? input.connections : undefined;
    if (!Array.isArray(connections)) return [];
    return connections
      .map((connection) => isObject(connection) ? connection.node : undefined)
      .filter((node) => typeof node === "string" || typeof node === "number")
      .map(String);
  });
}

/**
 * Exports a workflow as a MISP blueprint file: every node, the trigger node included, in the
 * editor's node shape, and the description prefixed with `[trigger-id]` as MISP's editor does
 * (no prefix for a trigger-less draft).
 *
 * @throws {RangeError} when two nodes share an id or an edge points to a missing node.
 */
export function exportBlueprint(workflow: Workflow, catalog: ModuleCatalog): BlueprintExport {
  const graph = buildDrawflowGraph(workflow, catalog);
  const prefix = workflow.trigger === null ? "" : `[${workflow.trigger}]`;
  const description = [prefix, workflow.description].filter((part) => part !== "").join("\n");
  return {
    WorkflowBlueprint: {
      uuid: crypto.randomUUID(),
      name: workflow.name,
      description,
      timestamp: String(Math.floor(Date.now() / 1_000)),
      default: false,
      data: [...graph.values()],
    },
  };
}
