/**
 * Edits of a MISP workflow graph (the Drawflow data of `Workflow.data`) that put one action
 * module right after the trigger node, or take it out again, and leave every other node as it
 * was. Pure: the graph comes in as MISP answered it and goes out as `/workflows/edit` takes it.
 *
 * MISP refuses a graph with a cycle, with other than one trigger node, or with an output holding
 * more than one connection unless the node allows it (`Workflow::$validate`,
 * `WorkflowGraphTool::hasMultipleOutputConnection`); so the module is inserted between the trigger
 * and what the trigger fed, never beside it.
 *
 * @module
 */

/** One connection as Drawflow stores it: `node` is the other end's id. */
export interface MispGraphConnection {
  node: string;
  /** On an input: the output of `node` it comes from (`output_1`). */
  input?: string;
  /** On an output: the input of `node` it goes to (`input_1`). */
  output?: string;
}

/** Inputs or outputs of a node: `{input_1: {connections: […]}}` (MISP may send `[]` for none). */
export type MispGraphPorts = Record<string, { connections: MispGraphConnection[] }>;

/** One node of a MISP workflow graph; fields Flowgate does not know are kept as they are. */
export interface MispGraphNode {
  id: number | string;
  name?: string;
  class?: string;
  data: { id: string; module_type: string; [field: string]: unknown };
  inputs: MispGraphPorts;
  outputs: MispGraphPorts;
  pos_x?: number;
  pos_y?: number;
  [field: string]: unknown;
}

/** A MISP workflow graph: nodes by id, plus MISP's optional `_frames` entry. */
export type MispGraph = Record<string, MispGraphNode>;

/** The module to place after the trigger, as MISP's `/workflows/moduleIndex` lists it. */
export interface GraphModule {
  /** MISP's module id, also the node's `data.id` (`flowgate_event_publish`). */
  id: string;
  name: string;
  version: string;
}

/** What `placeModuleAfterTrigger` did. */
export type PlaceChange = "added" | "updated" | "unchanged";

/** Result of `placeModuleAfterTrigger`. */
export interface PlaceResult {
  graph: MispGraph;
  change: PlaceChange;
  /** Id of the module's node in `graph`. */
  nodeId: string;
  /** What changed, in words, when `change` is not `unchanged`. */
  detail?: string;
}

/** How a module sits in a graph, for checks. */
export type ModuleWiring = "wired" | "missing" | "not-after-trigger" | "no-trigger-node";

const FRAMES_KEY = "_frames";
const EMPTY_FILTERS = { selector: "", value: "", operator: "", path: "" };
/** Horizontal distance of the inserted node from the trigger node, in editor pixels. */
const NODE_OFFSET_X = 260;

/**
 * Reads MISP's `Workflow.data` (nodes keyed by id, or a list of nodes) into a graph keyed by id.
 *
 * @throws {TypeError} when the data is not a Drawflow graph, naming the bad node
 */
export function readMispGraph(data: unknown): MispGraph {
  if (data === null || typeof data !== "object") {
    throw new TypeError(`Workflow data is not a graph: expected an object of nodes`);
  }
  const entries = Array.isArray(data)
    ? data.map((node) => [String((node as MispGraphNode)?.id), node] as const)
    : Object.entries(data);
  const graph: MispGraph = {};
  for (const [key, raw] of entries) {
    if (key === FRAMES_KEY) {
      graph[key] = structuredClone(raw) as MispGraphNode;
      continue;
    }
    const node = raw as MispGraphNode;
    if (
      node === null || typeof node !== "object" || typeof node.data?.id !== "string" ||
      typeof node.data.module_type !== "string"
    ) {
      throw new TypeError(`Workflow data is not a graph: node "${key}" has no data.id`);
    }
    const copy = structuredClone(node);
    copy.inputs = ports(copy.inputs);
    copy.outputs = ports(copy.outputs);
    graph[String(copy.id)] = copy;
  }
  return graph;
}

/** The nodes of a graph, without MISP's `_frames` entry. */
export function graphNodes(graph: MispGraph): MispGraphNode[] {
  return Object.entries(graph).filter(([key]) => key !== FRAMES_KEY).map(([, node]) => node);
}

/** The trigger node of `triggerId`, or undefined. */
export function findTriggerNode(graph: MispGraph, triggerId: string): MispGraphNode | undefined {
  return graphNodes(graph).find((node) =>
    node.data.module_type === "trigger" && node.data.id === triggerId
  );
}

/** How `moduleId` sits in the graph of `triggerId`: right after the trigger node, or not. */
export function describeModuleWiring(
  graph: MispGraph,
  triggerId: string,
  moduleId: string,
): ModuleWiring {
  const trigger = findTriggerNode(graph, triggerId);
  if (!trigger) return "no-trigger-node";
  const modules = graphNodes(graph).filter((node) => node.data.id === moduleId);
  if (modules.length === 0) return "missing";
  const next = trigger.outputs.output_1?.connections ?? [];
  const wired = modules.length === 1 && next.length === 1 &&
    next[0]?.node === String(modules[0]?.id);
  return wired ? "wired" : "not-after-trigger";
}

/**
 * Puts `module` right after the trigger node: a new node takes over the trigger's first output
 * and feeds what the trigger fed. A node of the module already there is kept (its params too) and
 * only its name and version are brought up to date; one elsewhere, or a second one, is taken out
 * first. Every other node stays as it was.
 *
 * @throws {RangeError} when the graph has no node for `triggerId`
 */
export function placeModuleAfterTrigger(
  source: MispGraph,
  triggerId: string,
  module: GraphModule,
): PlaceResult {
  let graph = readMispGraph(source);
  const trigger = findTriggerNode(graph, triggerId);
  if (!trigger) {
    throw new RangeError(`The MISP workflow has no "${triggerId}" trigger node`);
  }
  if (describeModuleWiring(graph, triggerId, module.id) === "wired") {
    const nodeId = trigger.outputs.output_1!.connections[0]!.node;
    const node = graph[nodeId]!;
    const stale = node.data.module_version !== module.version || node.data.name !== module.name;
    if (!stale) return { graph, change: "unchanged", nodeId };
    const detail = `version ${String(node.data.module_version)} → ${module.version}`;
    node.data = { ...node.data, name: module.name, module_version: module.version };
    return { graph, change: "updated", nodeId, detail };
  }
  const misplaced = graphNodes(graph).filter((node) => node.data.id === module.id);
  let params: unknown = {};
  for (const node of misplaced) {
    params = node.data.indexed_params ?? params;
    graph = removeNode(graph, String(node.id));
  }
  const triggerNode = graph[String(trigger.id)]!;
  const nodeId = String(nextNodeId(graph));
  const fed = triggerNode.outputs.output_1?.connections ?? [];
  graph[nodeId] = {
    id: Number(nodeId),
    name: module.name,
    class: "block-type-default",
    typenode: false,
    data: {
      id: module.id,
      name: module.name,
      module_type: "action",
      module_version: module.version,
      indexed_params: params,
      saved_filters: { ...EMPTY_FILTERS },
      multiple_output_connection: false,
    },
    inputs: { input_1: { connections: [{ node: String(triggerNode.id), input: "output_1" }] } },
    outputs: {
      output_1: { connections: fed.map((link) => ({ node: link.node, output: link.output })) },
    },
    pos_x: (triggerNode.pos_x ?? 0) + NODE_OFFSET_X,
    pos_y: triggerNode.pos_y ?? 0,
  };
  for (const link of fed) {
    const next = graph[link.node];
    const input = next?.inputs[link.output ?? "input_1"];
    if (!input) continue;
    input.connections = input.connections.map((back) =>
      back.node === String(triggerNode.id) && back.input === "output_1"
        ? { node: nodeId, input: "output_1" }
        : back
    );
  }
  triggerNode.outputs.output_1 = { connections: [{ node: nodeId, output: "input_1" }] };
  return misplaced.length === 0
    ? { graph, change: "added", nodeId }
    : { graph, change: "updated", nodeId, detail: "moved right after the trigger" };
}

/**
 * Takes every node of `moduleId` out of the graph and joins what fed it to what it fed, so the
 * user's nodes stay connected as they were before the module was placed.
 */
export function removeModuleNodes(
  source: MispGraph,
  moduleId: string,
): { graph: MispGraph; removed: string[] } {
  let graph = readMispGraph(source);
  const removed = graphNodes(graph)
    .filter((node) => node.data.id === moduleId)
    .map((node) => String(node.id));
  for (const id of removed) graph = removeNode(graph, id);
  return { graph, removed };
}

/** Removes node `id`, reconnecting each of its feeders to each node it fed. */
function removeNode(graph: MispGraph, id: string): MispGraph {
  const node = graph[id];
  if (!node) return graph;
  const feeders = Object.values(node.inputs).flatMap((port) => port.connections);
  const fed = Object.values(node.outputs).flatMap((port) => port.connections);
  for (const feeder of feeders) {
    const output = graph[feeder.node]?.outputs[feeder.input ?? "output_1"];
    if (!output) continue;
    output.connections = output.connections.filter((link) => link.node !== id);
    for (const link of fed) {
      if (link.node === feeder.node) continue;
      if (!output.connections.some((existing) => existing.node === link.node)) {
        output.connections.push({ node: link.node, output: link.output ?? "input_1" });
      }
    }
  }
  for (const link of fed) {
    const input = graph[link.node]?.inputs[link.output ?? "input_1"];
    if (!input) continue;
    input.connections = input.connections.filter((back) => back.node !== id);
    for (const feeder of feeders) {
      if (feeder.node === link.node) continue;
      if (!input.connections.some((existing) => existing.node === feeder.node)) {
        input.connections.push({ node: feeder.node, input: feeder.input ?? "output_1" });
      }
    }
  }
  const rest = { ...graph };
  delete rest[id];
  return rest;
}

function nextNodeId(graph: MispGraph): number {
  let highest = 0;
  for (const node of graphNodes(graph)) {
    const id = Number(node.id);
    if (Number.isFinite(id)) highest = Math.max(highest, id);
  }
  return highest + 1;
}

/** MISP encodes a node without ports as `[]`; Flowgate works on `{}`. */
function ports(value: unknown): MispGraphPorts {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
  const result: MispGraphPorts = {};
  for (const [name, port] of Object.entries(value as Record<string, unknown>)) {
    const connections = (port as { connections?: unknown })?.connections;
    result[name] = {
      connections: Array.isArray(connections)
        ? connections.map((link) => ({ ...link, node: String(link?.node) }))
        : [],
    };
  }
  return result;
}
