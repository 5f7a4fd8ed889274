/**
 * MISP workflow JSON (the Drawflow graph MISP stores, reference §2.1–2.2): import into the shared
 * model and export as a record MISP's editor loads.
 *
 * @module
 */

import { LAYOUT_COLUMN_WIDTH, layoutWorkflow } from "./layout.ts";
import type {
  ModuleCatalog,
  ModuleDescriptor,
  ModuleType,
  NodeFilters,
  NodeLayout,
  ParamDescriptor,
  Workflow,
  WorkflowNode,
} from "./model.ts";
import { assertNodeCount, assertWorkflowDepth } from "./workflow_limits.ts";
import { WorkflowSyntaxError } from "./workflow_syntax_error.ts";
import { DEFAULT_WORKFLOW_ORDER } from "./yaml_codec.ts";

/** One Drawflow connection as MISP stores it (the key names are Drawflow's, inverted). */
export interface DrawflowConnection {
  node: string;
  input?: string;
  output?: string;
}

/** One node of a Drawflow graph as MISP's editor saves it. */
export interface DrawflowNode {
  id: number;
  name: string;
  data: Record<string, unknown>;
  class: string;
  typenode: false;
  inputs: Record<string, { connections: DrawflowConnection[] }> | [];
  outputs: Record<string, { connections: DrawflowConnection[] }> | [];
  "pos_x": number;
  "pos_y": number;
}

/** The exported record: `{"Workflow": {name, description, trigger_id, enabled, data}}`. */
export interface MispWorkflowExport {
  Workflow: {
    name: string;
    description: string;
    "trigger_id": string;
    enabled: boolean;
    data: Record<string, DrawflowNode | Record<string, never>>;
  };
}

const FILTER_KEYS = ["selector", "value", "operator", "path"] as const;
const MODULE_TYPES: readonly ModuleType[] = ["trigger", "logic", "action"];

/** Empty `saved_filters`, as MISP stores them on every node. */
export const EMPTY_FILTERS: Readonly<NodeFilters> = Object.freeze({
  selector: "",
  value: "",
  operator: "",
  path: "",
});

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Turns any workflow or blueprint title into a Flowgate workflow name (`[a-z0-9][a-z0-9._-]*`):
 * `Workflow for trigger event-publish` becomes `workflow-for-trigger-event-publish`; a valid name
 * stays as it is.
 */
export function toWorkflowName(title: string): string {
  if (/^[a-z0-9][a-z0-9._-]*$/.test(title)) return title;
  const slug = title.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[^a-z0-9]+/, "")
    .replace(/-+$/, "");
  return slug || "workflow";
}

/** Parses `data` given as a JSON string, as MISP's edit endpoint takes it. */
export function decodeJsonField(value: unknown, field: string): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new WorkflowSyntaxError(
      `Field "${field}": invalid JSON string: ${(error as Error).message}`,
      {
        field,
        cause: error,
      },
    );
  }
}

/**
 * Reads one Drawflow node into the model. `id` is the graph key; `indexed_params: []` means no
 * params; all-empty `saved_filters` mean no filters (MISP's `filtersEnabled`).
 *
 * @throws {WorkflowSyntaxError} when the node lacks a module id or type, or a field has the wrong shape.
 * @throws {WorkflowLimitError} when its params nest deeper than `MAX_DATA_DEPTH`.
 */
export function readDrawflowNode(id: string, raw: unknown): WorkflowNode {
  const fail = (field: string, message: string): never => {
    throw new WorkflowSyntaxError(`Node "${id}", field "${field}": ${message}`, {
      node: id,
      field,
    });
  };
  if (!isObject(raw)) return fail("id", "expected a node object");
  const data = raw.data;
  if (!isObject(data)) return fail("data", "expected an object");
  const module = data.id;
  if (typeof module !== "string" || module === "") return fail("data.id", "expected a module id");
  const kind = data.module_type;
  if (!MODULE_TYPES.includes(kind as ModuleType)) {
    return fail(
      "data.module_type",
      `expected "trigger", "logic" or "action", got ${JSON.stringify(kind)}`,
    );
  }
  const node: WorkflowNode = {
    id,
    module,
    kind: kind as ModuleType,
    params: readParams(id, data.indexed_params, fail),
    next: readOutputs(raw.outputs, fail),
  };
  const filters = readFilters(data.saved_filters, fail);
  if (filters) node.filters = filters;
  if (typeof raw.name === "string" && raw.name !== "" && raw.name !== data.name) {
    node.label = raw.name;
  }
  if (typeof raw.pos_x === "number" && typeof raw.pos_y === "number") {
    node.layout = { x: raw.pos_x, y: raw.pos_y };
  }
  return node;
}

function readParams(
  id: string,
  value: unknown,
  fail: (field: string, message: string) => never,
): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (Array.isArray(value)) {
    if (value.length === 0) return {};
    return fail("data.indexed_params", "expected an object of param values, got a list");
  }
  if (!isObject(value)) return fail("data.indexed_params", "expected an object of param values");
  // Checked before cloning: structuredClone recurses and overflows the stack on deep values.
  assertWorkflowDepth(value, { node: id, field: "data.indexed_params" });
  return structuredClone(value);
}

function readFilters(
  value: unknown,
  fail: (field: string, message: string) => never,
): NodeFilters | undefined {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
    return undefined;
  }
  if (!isObject(value)) return fail("data.saved_filters", "expected an object");
  const filters: NodeFilters = { ...EMPTY_FILTERS };
  for (const key of FILTER_KEYS) {
    const item = value[key];
    if (item === undefined || item === null) continue;
    if (typeof item !== "string" && typeof item !== "number") {
      return fail(`data.saved_filters.${key}`, "expected a string");
    }
    filters[key] = String(item);
  }
  return FILTER_KEYS.some((key) => filters[key] !== "") ? filters : undefined;
}

function readOutputs(
  value: unknown,
  fail: (field: string, message: string) => never,
): string[][] {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
    return [];
  }
  if (!isObject(value)) return fail("outputs", "expected an object of outputs");
  const next: string[][] = [];
  for (const [name, output] of Object.entries(value)) {
    const match = /^output_([1-9][0-9]*)$/.exec(name);
    if (!match) return fail(`outputs.${name}`, `unknown output name "${name}"`);
    const index = Number(match[1]) - 1;
    const connections = isObject(output) ? output.connections : undefined;
    if (!Array.isArray(connections)) return fail(`outputs.${name}`, "expected connections");
    while (next.length <= index) next.push([]);
    next[index] = connections.map((connection, position) => {
      const target = isObject(connection) ? connection.node : undefined;
      if (typeof target !== "string" && typeof target !== "number") {
        return fail(`outputs.${name}.connections.${position}`, "expected a target node id");
      }
      return String(target);
    });
  }
  return next;
}

/**
 * Imports a MISP workflow: `{"Workflow": record}`, the bare record, or the bare graph. `data` may be
 * a JSON string, `_frames` and UI keys are ignored, node ids stay MISP's numeric strings. Name,
 * description and trigger come from the record when present; the name becomes a Flowgate name.
 * The catalog, when given, sets the timeout policy (`allow` for non-blocking triggers).
 *
 * @throws {WorkflowSyntaxError} when the JSON is not a MISP workflow.
 * @throws {WorkflowLimitError} when it has more than `MAX_NODES` nodes or params nested deeper
 * than `MAX_DATA_DEPTH`.
 */
export function importMispWorkflow(json: unknown, catalog?: ModuleCatalog): Workflow {
  if (!isObject(json)) {
    throw new WorkflowSyntaxError("Expected a MISP workflow object, got " + describeJson(json));
  }
  const record = isObject(json.Workflow) ? json.Workflow : "data" in json ? json : undefined;
  const graph = decodeJsonField(record ? record.data : json, "data");
  if (!isObject(graph)) {
    throw new WorkflowSyntaxError(
      `Field "data": expected the workflow graph object, got ${describeJson(graph)}`,
      { field: "data" },
    );
  }
  const entries = Object.entries(graph).filter(([key]) => key !== "_frames");
  const recordTrigger = typeof record?.trigger_id === "string" ? record.trigger_id : undefined;
  // Counted before any node is read; the name is the record's, the trigger is not known yet.
  assertNodeCount(toWorkflowName(String(record?.name ?? "")), entries.length);
  const nodes = entries.map(([key, raw]) => readDrawflowNode(key, raw));
  const triggerNodes = nodes.filter((node) => node.kind === "trigger");
  const triggerNode = triggerNodes.find((node) => node.module === recordTrigger) ?? triggerNodes[0];
  const trigger = recordTrigger ?? triggerNode?.module;
  if (trigger === undefined) {
    throw new WorkflowSyntaxError(
      'Field "trigger_id": the workflow has neither a "trigger_id" nor a trigger node',
      { field: "trigger_id" },
    );
  }
  const title = typeof record?.name === "string" && record.name !== ""
    ? record.name
    : `Workflow for trigger ${trigger}`;
  const ordered = triggerNode
    ? [triggerNode, ...nodes.filter((node) => node !== triggerNode)]
    : nodes;
  const blocking = catalog?.describe(trigger)?.blocking;
  return {
    name: toWorkflowName(title),
    description: typeof record?.description === "string" ? record.description : "",
    trigger,
    enabled: typeof record?.enabled === "boolean" ? record.enabled : true,
    order: DEFAULT_WORKFLOW_ORDER,
    "on_timeout": blocking === false ? "allow" : "block",
    nodes: ordered,
  };
}

function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * The integer id every node gets in MISP JSON: the trigger node is 1, other numeric ids are kept,
 * and the rest are numbered in node order after the highest kept id.
 */
export function assignMispIds(workflow: Workflow): Map<string, number> {
  const ids = new Map<string, number>();
  const trigger = workflow.nodes.find((node) => node.kind === "trigger");
  if (trigger) ids.set(trigger.id, 1);
  const used = new Set(ids.values());
  const numeric = (id: string) => /^[1-9][0-9]{0,8}$/.test(id) ? Number(id) : undefined;
  for (const node of workflow.nodes) {
    const number = numeric(node.id);
    if (ids.has(node.id) || number === undefined || used.has(number)) continue;
    ids.set(node.id, number);
    used.add(number);
  }
  let nextId = Math.max(0, ...used) + 1;
  for (const node of workflow.nodes) {
    if (!ids.has(node.id)) ids.set(node.id, nextId++);
  }
  return ids;
}

/**
 * Param values as MISP's editor persists them (`getIndexedParams`): every declared param written,
 * a missing one as its default or `''`. Unlike the editor, an explicit falsy value (`0`, `''`,
 * `false`) is kept, since the engine only falls back on a missing one (reference §12 item 20).
 * Undeclared params are kept after the declared ones.
 */
export function persistParams(
  params: Record<string, unknown>,
  declared: readonly ParamDescriptor[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const param of declared) {
    const value = params[param.id];
    out[param.id] = structuredClone(
      value !== undefined && value !== null ? value : param.default ?? "",
    );
  }
  for (const [id, value] of Object.entries(params)) {
    if (!(id in out)) out[id] = structuredClone(value);
  }
  return out;
}

function classFor(node: WorkflowNode, descriptor: ModuleDescriptor | undefined): string {
  if (node.kind === "trigger") return "block-type-trigger";
  const template = descriptor?.html_template ??
    (descriptor?.multiple_output_connection
      ? "concurrent"
      : node.kind === "logic" && descriptor?.outputs === 2
      ? "if"
      : "default");
  const classes = [`block-type-${template}`];
  if (node.kind === "logic") classes.push("block-type-logic");
  if (descriptor?.expect_misp_core_format) classes.push("expect-misp-core-format");
  return classes.join(" ");
}

/**
 * Builds the Drawflow nodes of a workflow, keyed by their MISP id, in the full shape the editor
 * saves: module data with persisted params and all four filter keys, classes, inputs rebuilt from
 * the edges, one output per module output, positions from `layout` or the automatic layout.
 *
 * @throws {RangeError} when two nodes share an id or an edge points to a missing node.
 */
export function buildDrawflowGraph(
  workflow: Workflow,
  catalog: ModuleCatalog,
): Map<number, DrawflowNode> {
  const seen = new Set<string>();
  for (const node of workflow.nodes) {
    if (seen.has(node.id)) {
      throw new RangeError(
        `Cannot export workflow "${workflow.name}": duplicate node id "${node.id}"`,
      );
    }
    seen.add(node.id);
  }
  const ids = assignMispIds(workflow);
  const placements = layoutWorkflow(workflow);
  const incoming = new Map<string, DrawflowConnection[]>();
  for (const node of workflow.nodes) {
    node.next.forEach((targets, index) => {
      for (const target of targets) {
        if (!ids.has(target)) {
          throw new RangeError(
            `Cannot export workflow "${workflow.name}": node "${node.id}" has an edge to missing node "${target}"`,
          );
        }
        const list = incoming.get(target) ?? [];
        list.push({ node: String(ids.get(node.id)), input: `output_${index + 1}` });
        incoming.set(target, list);
      }
    });
  }
  const byId = new Map(workflow.nodes.map((node) => [node.id, node]));
  const graph = new Map<number, DrawflowNode>();
  for (const node of workflow.nodes) {
    const id = ids.get(node.id) as number;
    const descriptor = catalog.describe(node.module);
    const moduleName = descriptor?.name ?? node.label ?? node.module;
    const params = persistParams(node.params, descriptor?.params ?? []);
    const outputCount = Math.max(
      descriptor?.outputs ?? 0,
      node.next.findLastIndex((targets) => targets.length > 0) + 1,
    );
    const outputs: DrawflowNode["outputs"] = {};
    for (let index = 0; index < outputCount; index++) {
      outputs[`output_${index + 1}`] = {
        connections: (node.next[index] ?? []).map((target) => ({
          node: String(ids.get(target)),
          output: "input_1",
        })),
      };
    }
    const inputCount = descriptor?.inputs ?? (node.kind === "trigger" ? 0 : 1);
    const placement = node.layout ??
      (node.kind === "trigger" ? leftOfStart(node, byId) : undefined) ??
      placements.get(node.id) ?? { x: 0, y: 0 };
    graph.set(id, {
      id,
      name: node.label ?? moduleName,
      data: nodeData(node, descriptor, { moduleName, params }),
      class: classFor(node, descriptor),
      typenode: false,
      inputs: inputCount === 0
        ? []
        : { input_1: { connections: sortedInputs(incoming.get(node.id)) } },
      outputs: outputCount === 0 ? [] : outputs,
      "pos_x": placement.x,
      "pos_y": placement.y,
    });
  }
  return graph;
}

/** Incoming connections by source id then output, so the export does not depend on node order. */
function sortedInputs(connections: DrawflowConnection[] = []): DrawflowConnection[] {
  return connections.toSorted((a, b) =>
    Number(a.node) - Number(b.node) || (a.input ?? "").localeCompare(b.input ?? "")
  );
}

/** A trigger without a position goes one column left of its first placed target. */
function leftOfStart(
  trigger: WorkflowNode,
  byId: Map<string, WorkflowNode>,
): NodeLayout | undefined {
  const first = (trigger.next[0] ?? []).map((id) => byId.get(id)?.layout).find(Boolean);
  return first ? { x: first.x - LAYOUT_COLUMN_WIDTH, y: first.y } : undefined;
}

function nodeData(
  node: WorkflowNode,
  descriptor: ModuleDescriptor | undefined,
  options: { moduleName: string; params: Record<string, unknown> },
): Record<string, unknown> {
  const common = {
    id: node.module,
    "module_type": node.kind,
    name: options.moduleName,
    "indexed_params": Object.keys(options.params).length > 0 ? options.params : [],
    "saved_filters": { ...(node.filters ?? EMPTY_FILTERS) },
    "multiple_output_connection": descriptor?.multiple_output_connection ?? false,
    "module_version": descriptor?.version ?? "0.1",
  };
  if (node.kind !== "trigger" || !descriptor) return common;
  const { params: _params, flowgate_only: _flowgate, enabled_by_default: _enabled, ...config } =
    descriptor;
  return {
    ...config,
    "is_misp_module": false,
    "is_custom": false,
    disabled: false,
    ...common,
  };
}

/**
 * Exports a workflow as the record MISP's editor loads: int ids (trigger = 1), the full node
 * shape, the trigger node's data holding the whole trigger descriptor.
 *
 * @throws {RangeError} when the workflow has no trigger (a MISP workflow always has one), two
 * nodes share an id or an edge points to a missing node.
 */
export function exportMispWorkflow(workflow: Workflow, catalog: ModuleCatalog): MispWorkflowExport {
  if (workflow.trigger === null) {
    throw new RangeError(
      `Cannot export workflow "${workflow.name}" as a MISP workflow: it has no trigger; choose a trigger first`,
    );
  }
  const graph = buildDrawflowGraph(workflow, catalog);
  const data: MispWorkflowExport["Workflow"]["data"] = {};
  for (const [id, node] of [...graph].sort(([a], [b]) => a - b)) data[String(id)] = node;
  data._frames = {};
  return {
    Workflow: {
      name: workflow.name,
      description: workflow.description,
      "trigger_id": workflow.trigger,
      enabled: workflow.enabled,
      data,
    },
  };
}
