/**
 * The YAML authoring format: parses a workflow file into the shared model with line and column on
 * every error, and writes a workflow back as readable YAML in a fixed key order.
 *
 * @module
 */

import {
  Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node as YamlNode,
  parseDocument,
  type Scalar,
  type YAMLMap,
  YAMLSeq,
} from "yaml";
import type {
  ModuleCatalog,
  ModuleType,
  NodeFilters,
  TimeoutPolicy,
  Workflow,
  WorkflowNode,
} from "./model.ts";
import {
  assertNodeCount,
  assertWorkflowDepth,
  assertWorkflowSize,
  isStackOverflow,
  nestingMessage,
} from "./workflow_limits.ts";
import { WorkflowLimitError, WorkflowSyntaxError } from "./workflow_syntax_error.ts";
import { MAX_DATA_DEPTH } from "./limits.ts";

export { WorkflowSyntaxError, type WorkflowSyntaxErrorOptions } from "./workflow_syntax_error.ts";

/** Id of the trigger node of a workflow parsed from YAML (the trigger is implicit in YAML). */
export const YAML_TRIGGER_NODE_ID = "trigger";

/** Default `order` of a workflow among the workflows of its trigger. */
export const DEFAULT_WORKFLOW_ORDER = 100;

const WORKFLOW_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const TOP_LEVEL_KEYS = [
  "name",
  "description",
  "trigger",
  "enabled",
  "order",
  "on_timeout",
  "trigger_params",
  "start",
  "nodes",
] as const;
const NODE_KEYS = [
  "module",
  "label",
  "position",
  "params",
  "filters",
  "then",
  "else",
  "next",
] as const;
const FILTER_KEYS = ["selector", "value", "operator", "path"] as const;

/** Options of `parseWorkflowYaml`. */
export interface ParseWorkflowYamlOptions {
  /**
   * Resolves each node's kind, the trigger's default timeout policy and output counts. Without it
   * a node is `logic` when it has `then`/`else` and `action` otherwise, and `on_timeout` defaults
   * to `block`.
   */
  catalog?: ModuleCatalog;
}

class YamlReader {
  #lines: LineCounter;
  #document: Document.Parsed;

  constructor(document: Document.Parsed, lines: LineCounter) {
    this.#document = document;
    this.#lines = lines;
  }

  /**
   * The plain JavaScript value of a YAML node, aliases resolved, refused when it nests deeper
   * than `MAX_DATA_DEPTH` (aliases can build depth the text does not show).
   */
  toJs(value: unknown, place: { node?: string; field: string }): unknown {
    if (value === null || value === undefined) return null;
    let js: unknown;
    try {
      js = (value as YamlNode).toJS(this.#document);
    } catch (error) {
      if (!isStackOverflow(error)) throw error;
      this.fail(nestingMessage(), value as YamlNode, place, {
        limit: MAX_DATA_DEPTH,
        cause: error,
      });
    }
    assertWorkflowDepth(js, place);
    return js;
  }

  fail(
    message: string,
    at: YamlNode | null | undefined,
    place: { node?: string; field?: string } = {},
    limit?: { limit: number; cause?: unknown },
  ): never {
    const offset = at?.range?.[0];
    const position = offset === undefined ? undefined : this.#lines.linePos(offset);
    const where = position ? ` (line ${position.line}, column ${position.col})` : "";
    const subject = place.node !== undefined
      ? `Node "${place.node}"${place.field ? `, field "${place.field}"` : ""}: `
      : place.field
      ? `Field "${place.field}": `
      : "";
    const options = { line: position?.line, column: position?.col, ...place };
    if (limit) {
      throw new WorkflowLimitError(`${subject}${message}${where}`, { ...options, ...limit });
    }
    throw new WorkflowSyntaxError(`${subject}${message}${where}`, options);
  }

  string(value: unknown, at: YamlNode, place: { node?: string; field: string }): string {
    if (isScalar(value) && typeof value.value === "string") return value.value;
    return this.fail(`expected a string, got ${describe(value)}`, at, place);
  }

  id(value: unknown, place: { node?: string; field: string }): string {
    if (isScalar(value) && (typeof value.value === "string" || typeof value.value === "number")) {
      const id = String(value.value);
      if (NODE_ID_PATTERN.test(id)) return id;
      return this.fail(
        `invalid node id "${id}": use letters, digits, "_" and "-", starting with a letter or digit`,
        value,
        place,
      );
    }
    return this.fail(`expected a node id, got ${describe(value)}`, value as YamlNode, place);
  }

  ids(value: unknown, place: { node?: string; field: string }): string[] {
    if (isSeq(value)) return value.items.map((item) => this.id(item, place));
    return [this.id(value, place)];
  }

  map(value: unknown, at: YamlNode | null, place: { node?: string; field?: string }): YAMLMap {
    if (isMap(value)) return value;
    return this.fail(
      `expected a mapping, got ${describe(value)}`,
      (value as YamlNode) ?? at,
      place,
    );
  }

  /** Checks the keys of a map against `allowed` and returns its pairs by key. */
  entries(
    map: YAMLMap,
    allowed: readonly string[],
    place: { node?: string; field?: string },
  ): Map<string, { key: YamlNode; value: unknown }> {
    const entries = new Map<string, { key: YamlNode; value: unknown }>();
    for (const pair of map.items) {
      const key = pair.key as YamlNode;
      const name = isScalar(key) ? String(key.value) : undefined;
      const field = place.field ? `${place.field}.${name}` : name;
      if (name === undefined) this.fail("expected a plain key", key, place);
      if (!allowed.includes(name)) {
        this.fail(
          `unknown key "${name}", expected one of ${allowed.join(", ")}`,
          key,
          { ...place, field },
        );
      }
      entries.set(name, { key, value: pair.value });
    }
    return entries;
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (isMap(value)) return "a mapping";
  if (isSeq(value)) return "a list";
  if (isScalar(value)) {
    const inner = (value as Scalar).value;
    if (inner === null) return "null";
    return typeof inner === "string" ? `"${inner}"` : `${typeof inner} ${String(inner)}`;
  }
  return "an alias";
}

function guessKind(hasBranches: boolean): ModuleType {
  return hasBranches ? "logic" : "action";
}

/**
 * The first key written twice in one mapping of `document` (scalar keys compared by value, as the
 * `yaml` parser does), found in one pass without recursion; undefined when every key is unique.
 */
function duplicateKey(document: Document.Parsed): Scalar | undefined {
  const pending: unknown[] = [document.contents];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          if (seen.has(pair.key.value)) return pair.key;
          seen.add(pair.key.value);
        } else {
          pending.push(pair.key);
        }
        pending.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) pending.push(item);
    }
  }
  return undefined;
}

/**
 * Parses a YAML workflow into the shared model. Unknown keys, bad ids and wrong types are errors
 * that carry line, column, node and field; the graph's meaning is checked by `validateWorkflow`.
 *
 * @throws {WorkflowSyntaxError} when the text is not YAML or not a workflow.
 * @throws {WorkflowLimitError} (a `WorkflowSyntaxError`) when the text is over
 * `MAX_WORKFLOW_BYTES`, has more than `MAX_NODES` nodes or nests deeper than `MAX_DATA_DEPTH`.
 */
export function parseWorkflowYaml(text: string, options: ParseWorkflowYamlOptions = {}): Workflow {
  assertWorkflowSize(text);
  const lines = new LineCounter();
  let document: Document.Parsed;
  try {
    // The parser's own duplicate-key check compares each key with every earlier one (a 1 MiB map
    // took minutes); `duplicateKey` does it in one pass.
    document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  } catch (error) {
    if (!isStackOverflow(error)) throw error;
    throw new WorkflowLimitError(`Invalid YAML: ${nestingMessage()}`, {
      limit: MAX_DATA_DEPTH,
      cause: error,
    });
  }
  const reader = new YamlReader(document, lines);
  const [problem] = document.errors;
  if (problem) {
    const position = lines.linePos(problem.pos[0]);
    const where = `(line ${position.line}, column ${position.col})`;
    const place = { line: position.line, column: position.col, cause: problem };
    // The parser reports its own stack overflow on deep flow collections as a parse error.
    if (/call stack/i.test(problem.message)) {
      throw new WorkflowLimitError(`Invalid YAML: ${nestingMessage()} ${where}`, {
        ...place,
        limit: MAX_DATA_DEPTH,
      });
    }
    throw new WorkflowSyntaxError(`Invalid YAML: ${problem.message} ${where}`, place);
  }
  const duplicate = duplicateKey(document);
  if (duplicate) {
    const position = lines.linePos(duplicate.range?.[0] ?? 0);
    throw new WorkflowSyntaxError(
      `Invalid YAML: Map keys must be unique (line ${position.line}, column ${position.col})`,
      { line: position.line, column: position.col },
    );
  }
  const root = document.contents;
  if (!isMap(root)) {
    return reader.fail(`expected a workflow mapping, got ${describe(root)}`, root, {});
  }
  const top = reader.entries(root, TOP_LEVEL_KEYS, {});
  const required = (key: string) => {
    const entry = top.get(key);
    if (!entry) return reader.fail(`missing required key "${key}"`, root, { field: key });
    return entry;
  };

  const nameEntry = required("name");
  const name = reader.string(nameEntry.value, nameEntry.key, { field: "name" });
  if (!WORKFLOW_NAME_PATTERN.test(name)) {
    reader.fail(
      `invalid workflow name "${name}": use lower-case letters, digits, ".", "_" and "-"`,
      nameEntry.value as YamlNode,
      { field: "name" },
    );
  }
  // `trigger: null` (or no key) is a trigger-less draft, as a MISP blueprint without a trigger.
  const triggerEntry = top.get("trigger");
  const trigger = triggerEntry === undefined || isNullScalar(triggerEntry.value)
    ? null
    : reader.string(triggerEntry.value, triggerEntry.key, { field: "trigger" });
  const description = readOptional(
    top.get("description"),
    (entry) => reader.string(entry.value, entry.key, { field: "description" }),
  ) ?? "";
  const enabled = readOptional(top.get("enabled"), (entry) => {
    if (isScalar(entry.value) && typeof entry.value.value === "boolean") return entry.value.value;
    return reader.fail(`expected true or false, got ${describe(entry.value)}`, entry.key, {
      field: "enabled",
    });
  }) ?? true;
  const order = readOptional(top.get("order"), (entry) => {
    const value = isScalar(entry.value) ? entry.value.value : undefined;
    if (typeof value === "number" && Number.isSafeInteger(value)) return value;
    return reader.fail(`expected an integer, got ${describe(entry.value)}`, entry.key, {
      field: "order",
    });
  }) ?? DEFAULT_WORKFLOW_ORDER;
  const triggerDescriptor = trigger === null ? undefined : options.catalog?.describe(trigger);
  const onTimeout = readOptional(top.get("on_timeout"), (entry) => {
    const value = isScalar(entry.value) ? entry.value.value : undefined;
    if (value === "block" || value === "allow") return value as TimeoutPolicy;
    return reader.fail(`expected "block" or "allow", got ${describe(entry.value)}`, entry.key, {
      field: "on_timeout",
    });
  }) ?? (triggerDescriptor && !triggerDescriptor.blocking ? "allow" : "block");
  const triggerParams = readOptional(top.get("trigger_params"), (entry) => {
    if (entry.value === null || (isScalar(entry.value) && entry.value.value === null)) return {};
    const map = reader.map(entry.value, entry.key, { field: "trigger_params" });
    return reader.toJs(map, { field: "trigger_params" }) as Record<
      string,
      unknown
    >;
  }) ?? {};
  const start =
    readOptional(top.get("start"), (entry) => reader.ids(entry.value, { field: "start" })) ?? [];
  if (trigger === null) {
    for (const key of ["start", "trigger_params"]) {
      const entry = top.get(key);
      if (entry) {
        reader.fail(
          `a workflow without a trigger has no "${key}": its entry nodes are the nodes no node points to; set "trigger" first`,
          entry.key,
          { field: key },
        );
      }
    }
  }

  const nodes: WorkflowNode[] = trigger === null ? [] : [{
    id: YAML_TRIGGER_NODE_ID,
    module: trigger,
    kind: "trigger",
    params: triggerParams,
    next: [start],
  }];
  const nodesEntry = top.get("nodes");
  if (nodesEntry && !(isScalar(nodesEntry.value) && nodesEntry.value.value === null)) {
    const nodesMap = reader.map(nodesEntry.value, nodesEntry.key, { field: "nodes" });
    assertNodeCount(name, nodesMap.items.length + 1);
    for (const pair of nodesMap.items) {
      const id = reader.id(pair.key, { field: "nodes" });
      if (id === YAML_TRIGGER_NODE_ID) {
        reader.fail(`node id "${id}" is reserved for the trigger node`, pair.key as YamlNode, {
          node: id,
          field: "id",
        });
      }
      nodes.push(readNode(reader, id, pair.key as YamlNode, pair.value, options.catalog));
    }
  }
  return { name, description, trigger, enabled, order, on_timeout: onTimeout, nodes };
}

function isNullScalar(value: unknown): boolean {
  return value === null || (isScalar(value) && value.value === null);
}

function readOptional<T>(
  entry: { key: YamlNode; value: unknown } | undefined,
  read: (entry: { key: YamlNode; value: unknown }) => T,
): T | undefined {
  return entry ? read(entry) : undefined;
}

function readNode(
  reader: YamlReader,
  id: string,
  key: YamlNode,
  value: unknown,
  catalog: ModuleCatalog | undefined,
): WorkflowNode {
  const map = reader.map(value, key, { node: id });
  const entries = reader.entries(map, NODE_KEYS, { node: id });
  const moduleEntry = entries.get("module");
  if (!moduleEntry) {
    reader.fail(`missing required key "module"`, key, { node: id, field: "module" });
  }
  const module = reader.string(moduleEntry.value, moduleEntry.key, { node: id, field: "module" });
  const node: WorkflowNode = { id, module, kind: "action", params: {}, next: [] };

  const label = entries.get("label");
  if (label) node.label = reader.string(label.value, label.key, { node: id, field: "label" });
  const position = entries.get("position");
  if (position) {
    const items = isSeq(position.value) ? position.value.items : [];
    const [x, y] = items.map((item) => isScalar(item) ? item.value : undefined);
    if (items.length !== 2 || typeof x !== "number" || typeof y !== "number") {
      reader.fail(`expected [x, y] numbers, got ${describe(position.value)}`, position.key, {
        node: id,
        field: "position",
      });
    }
    node.layout = { x, y };
  }
  const params = entries.get("params");
  if (params && !(isScalar(params.value) && params.value.value === null)) {
    const place = { node: id, field: "params" };
    node.params = reader.toJs(reader.map(params.value, params.key, place), place) as Record<
      string,
      unknown
    >;
  }
  const filters = entries.get("filters");
  if (filters) node.filters = readFilters(reader, id, filters);

  const then = entries.get("then");
  const otherwise = entries.get("else");
  const next = entries.get("next");
  if (next && (then || otherwise)) {
    reader.fail(`use either "next" or "then"/"else", not both`, next.key, {
      node: id,
      field: "next",
    });
  }
  const edges = (entry: { key: YamlNode; value: unknown } | undefined, field: string) =>
    entry ? reader.ids(entry.value, { node: id, field }) : [];
  node.next = then || otherwise
    ? [edges(then, "then"), edges(otherwise, "else")]
    : next
    ? [edges(next, "next")]
    : [];

  const descriptor = catalog?.describe(module);
  node.kind = descriptor?.module_type ?? guessKind(Boolean(then || otherwise));
  while (descriptor && node.next.length < descriptor.outputs) node.next.push([]);
  return node;
}

function readFilters(
  reader: YamlReader,
  id: string,
  entry: { key: YamlNode; value: unknown },
): NodeFilters {
  const map = reader.map(entry.value, entry.key, { node: id, field: "filters" });
  const entries = reader.entries(map, FILTER_KEYS, { node: id, field: "filters" });
  const filters: NodeFilters = { selector: "", value: "", operator: "", path: "" };
  for (const [name, { key, value }] of entries) {
    const scalar = isScalar(value) ? value.value : undefined;
    if (typeof scalar !== "string" && typeof scalar !== "number") {
      reader.fail(`expected a string, got ${describe(value)}`, key, {
        node: id,
        field: `filters.${name}`,
      });
    }
    filters[name as keyof NodeFilters] = String(scalar);
  }
  return filters;
}

/** Output keys a node is written with: `then`/`else` for two outputs, `next` for one. */
function edgeKeys(node: WorkflowNode, catalog: ModuleCatalog): string[] {
  const descriptor = catalog.describe(node.module);
  const lastUsed = node.next.findLastIndex((targets) => targets.length > 0);
  if (lastUsed > 1) {
    throw new RangeError(
      `Cannot write node "${node.id}" as YAML: it has edges on output ${lastUsed + 1}`,
    );
  }
  if (lastUsed === 1 || descriptor?.outputs === 2) return ["then", "else"];
  return ["next"];
}

function edgeValue(targets: string[], asList: boolean): string | string[] {
  return targets.length === 1 && !asList ? targets[0] as string : targets;
}

/**
 * Writes a workflow as YAML in the authoring key order. Edges use `then`/`else` for IF modules and
 * `next` otherwise (a list for fan-out); defaults the parser would restore are still written so
 * the file says exactly what runs.
 *
 * A trigger-less draft is written with `trigger: null` and no `start`.
 *
 * @throws {RangeError} when a workflow with a trigger has no trigger node, or has edges YAML
 * cannot express.
 */
export function stringifyWorkflowYaml(workflow: Workflow, catalog: ModuleCatalog): string {
  const triggerNode = workflow.nodes.find((node) => node.kind === "trigger");
  if (!triggerNode && workflow.trigger !== null) {
    throw new RangeError(
      `Cannot write workflow "${workflow.name}" as YAML: it has no trigger node`,
    );
  }
  const extraTrigger = workflow.nodes.find((node) =>
    node.kind === "trigger" && node !== triggerNode
  );
  if (extraTrigger) {
    throw new RangeError(
      `Cannot write workflow "${workflow.name}" as YAML: node "${extraTrigger.id}" is a second trigger`,
    );
  }
  const lastTriggerOutput = triggerNode?.next.findLastIndex((targets) => targets.length > 0) ?? -1;
  if (lastTriggerOutput > 0) {
    throw new RangeError(
      `Cannot write workflow "${workflow.name}" as YAML: the trigger node has edges on output ${
        lastTriggerOutput + 1
      }`,
    );
  }
  const out: Record<string, unknown> = {
    name: workflow.name,
    description: workflow.description,
    trigger: workflow.trigger,
    enabled: workflow.enabled,
    order: workflow.order,
    "on_timeout": workflow.on_timeout,
  };
  if (triggerNode && Object.keys(triggerNode.params).length > 0) {
    out.trigger_params = triggerNode.params;
  }
  const start = triggerNode?.next[0] ?? [];
  if (start.length > 0) out.start = edgeValue(start, false);
  const nodes: Record<string, unknown> = {};
  for (const node of workflow.nodes) {
    if (node === triggerNode) continue;
    if (node.id in nodes) {
      throw new RangeError(
        `Cannot write workflow "${workflow.name}" as YAML: duplicate node id "${node.id}"`,
      );
    }
    nodes[node.id] = nodeToYaml(node, catalog);
  }
  if (Object.keys(nodes).length > 0) out.nodes = nodes;

  const document = new Document(out);
  for (const node of workflow.nodes) {
    const position = document.getIn(["nodes", node.id, "position"], true);
    if (position instanceof YAMLSeq) position.flow = true;
  }
  return document.toString({ lineWidth: 100 });
}

function nodeToYaml(node: WorkflowNode, catalog: ModuleCatalog): Record<string, unknown> {
  const descriptor = catalog.describe(node.module);
  const out: Record<string, unknown> = { module: node.module };
  if (node.label !== undefined && node.label !== descriptor?.name) out.label = node.label;
  if (node.layout) out.position = [node.layout.x, node.layout.y];
  if (Object.keys(node.params).length > 0) out.params = node.params;
  if (node.filters) out.filters = { ...node.filters };
  const keys = edgeKeys(node, catalog);
  const fanOut = descriptor?.multiple_output_connection === true;
  keys.forEach((key, index) => {
    const targets = node.next[index] ?? [];
    if (targets.length > 0) out[key] = edgeValue(targets, fanOut);
  });
  return out;
}
