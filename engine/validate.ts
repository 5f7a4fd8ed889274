/**
 * Workflow validation on save: MISP's rules with MISP's messages (one trigger, acyclic, one
 * connection per output) plus Flowgate's checks of modules, params, filters and edges, and the
 * warnings MISP's editor shows.
 *
 * @module
 */

import type {
  ModuleCatalog,
  ModuleDescriptor,
  ParamDescriptor,
  ParamOptions,
  Workflow,
  WorkflowNode,
} from "./model.ts";
import { entryNodes } from "./attach_trigger.ts";
import { MAX_NODES } from "./limits.ts";
import { templateParamProblem } from "./template_syntax.ts";

/** Stable codes of validation problems, for callers that react to one kind. */
export type ValidationCode =
  | "cycle"
  | "trigger-count"
  | "multiple-connections"
  | "unknown-module"
  | "kind-mismatch"
  | "trigger-mismatch"
  | "unknown-trigger"
  | "unknown-param"
  | "invalid-param"
  | "missing-param"
  | "unknown-output"
  | "dangling-edge"
  | "duplicate-node"
  | "filters-unsupported"
  | "filters-incomplete"
  | "unreachable-node"
  | "blocking-in-non-blocking-workflow"
  | "blocking-after-concurrent-task"
  | "core-format-mismatch"
  | "too-many-nodes"
  | "no-trigger"
  | "unknown-option";

/** One problem: a code, a message naming the node and field, and the node and field. */
export interface ValidationProblem {
  code: ValidationCode;
  message: string;
  node?: string;
  field?: string;
}

/** What `validateWorkflow` found: errors refuse a save, warnings are shown. */
export interface ValidationResult {
  errors: ValidationProblem[];
  warnings: ValidationProblem[];
}

/** MISP's save error for a cyclic graph. */
export const CYCLE_MESSAGE = "Cannot save a workflow containing a cycle";
/** MISP's save error for zero or several trigger nodes. */
export const TRIGGER_COUNT_MESSAGE =
  "Cannot save a workflow containing no or more than one trigger";
/** MISP's save error for fan-out on a module that does not allow it. */
export const MULTIPLE_CONNECTIONS_MESSAGE =
  "Cannot save a workflow having more than one connection per output";
/** MISP's path warning for a blocking module a non-blocking run reaches. */
export const BLOCKING_PATH_MESSAGE =
  "This path leads to a blocking node from a non-blocking context";

/** A workflow that failed validation; carries every problem found. */
export class WorkflowValidationError extends SyntaxError {
  /** Errors that refused the workflow. */
  readonly errors: ValidationProblem[];
  /** Warnings found at the same time. */
  readonly warnings: ValidationProblem[];

  /** Creates the error for the workflow named `workflow`; the message lists every error. */
  constructor(workflow: string, result: ValidationResult, options?: ErrorOptions) {
    const list = result.errors.map((problem) => problem.message).join("; ");
    super(`Cannot save workflow "${workflow}": ${list}`, options);
    this.name = "WorkflowValidationError";
    this.errors = result.errors;
    this.warnings = result.warnings;
  }
}

const CHECKBOX_VALUES = new Set<unknown>([
  true,
  false,
  0,
  1,
  "0",
  "1",
  "true",
  "false",
  "on",
  "off",
]);

function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === "" ||
    (Array.isArray(value) && value.length === 0);
}

function article(kind: string): string {
  return `${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind}`;
}

function nodePrefix(node: WorkflowNode, field: string): string {
  return `Node "${node.id}" (${node.module}), field "${field}"`;
}

/** Name of output `index` (0-based) as the YAML format writes it: then/else, or next. */
function outputField(
  node: WorkflowNode,
  descriptor: ModuleDescriptor | undefined,
  index: number,
): string {
  if (index === 1) return "else";
  if (index > 1) return `output_${index + 1}`;
  return descriptor?.outputs === 2 || node.next.length === 2 ? "then" : "next";
}

/** The values a select or picker accepts, as strings. */
export function optionValues(options: ParamOptions): string[] {
  if (Array.isArray(options)) {
    return options.map((option) =>
      typeof option === "object" && option !== null ? String(option.value) : String(option)
    );
  }
  return Object.keys(options);
}

class Collector {
  readonly errors: ValidationProblem[] = [];
  readonly warnings: ValidationProblem[] = [];

  error(code: ValidationCode, message: string, place: { node?: string; field?: string } = {}) {
    this.errors.push({ code, message, ...place });
  }

  warn(code: ValidationCode, message: string, place: { node?: string; field?: string } = {}) {
    this.warnings.push({ code, message, ...place });
  }

  nodeError(code: ValidationCode, node: WorkflowNode, field: string, detail: string) {
    this.error(code, `${nodePrefix(node, field)}: ${detail}`, { node: node.id, field });
  }

  nodeWarning(code: ValidationCode, node: WorkflowNode, field: string, detail: string) {
    this.warn(code, `${nodePrefix(node, field)}: ${detail}`, { node: node.id, field });
  }
}

/**
 * Checks a workflow against MISP's save rules and Flowgate's, returning every problem found.
 * Errors name the node and the field; MISP's three graph rules keep MISP's exact messages. A
 * workflow over `MAX_NODES` nodes gets that one error and no other check.
 */
export function validateWorkflow(workflow: Workflow, catalog: ModuleCatalog): ValidationResult {
  const found = new Collector();
  if (workflow.nodes.length > MAX_NODES) {
    // Checked alone: the other checks would only add work and noise on a refused graph.
    found.error(
      "too-many-nodes",
      `Workflow "${workflow.name}" has too many nodes: ${workflow.nodes.length}, the limit is ${MAX_NODES}`,
      { field: "nodes" },
    );
    return { errors: found.errors, warnings: found.warnings };
  }
  const byId = new Map<string, WorkflowNode>();
  for (const node of workflow.nodes) {
    if (byId.has(node.id)) {
      found.nodeError("duplicate-node", node, "id", `duplicate node id "${node.id}"`);
    } else byId.set(node.id, node);
  }

  const triggerNodes = workflow.nodes.filter((node) => node.kind === "trigger");
  if (workflow.trigger === null) {
    checkTriggerless(workflow, triggerNodes, found);
  } else {
    checkTrigger(workflow, workflow.trigger, { catalog, triggerNodes, found });
  }
  for (const node of workflow.nodes) checkNode(node, { catalog, byId, found });
  checkCycles(workflow, byId, found);
  const triggerDescriptor = workflow.trigger === null
    ? undefined
    : catalog.describe(workflow.trigger);
  checkPaths(workflow, { catalog, byId, found, trigger: triggerDescriptor });
  return { errors: found.errors, warnings: found.warnings };
}

/** The workflow's trigger is a known trigger and its one trigger node. */
function checkTrigger(
  workflow: Workflow,
  trigger: string,
  context: { catalog: ModuleCatalog; triggerNodes: WorkflowNode[]; found: Collector },
): void {
  const { found, triggerNodes } = context;
  const triggerDescriptor = context.catalog.describe(trigger);
  if (triggerDescriptor?.module_type !== "trigger") {
    found.error(
      "unknown-trigger",
      `Workflow "${workflow.name}", field "trigger": unknown trigger "${trigger}"`,
      { field: "trigger" },
    );
  }
  if (triggerNodes.length !== 1) found.error("trigger-count", TRIGGER_COUNT_MESSAGE);
  for (const node of triggerNodes) {
    if (node.module !== trigger) {
      found.nodeError(
        "trigger-mismatch",
        node,
        "module",
        `the trigger node is "${node.module}" but the workflow's trigger is "${trigger}"`,
      );
    }
  }
}

/**
 * A trigger-less draft (a MISP blueprint fragment): accepted with a warning, but it has no
 * trigger node and cannot be enabled until a trigger is chosen.
 */
function checkTriggerless(workflow: Workflow, triggerNodes: WorkflowNode[], found: Collector) {
  found.warn(
    "no-trigger",
    `Workflow "${workflow.name}", field "trigger": no trigger yet; it stays disabled until a trigger is chosen (choose a trigger to enable it)`,
    { field: "trigger" },
  );
  if (workflow.enabled) {
    found.error(
      "no-trigger",
      `Workflow "${workflow.name}", field "enabled": a workflow without a trigger cannot be enabled; choose a trigger first`,
      { field: "enabled" },
    );
  }
  for (const node of triggerNodes) {
    found.nodeError(
      "trigger-mismatch",
      node,
      "module",
      `the workflow has no trigger but node "${node.id}" is the trigger "${node.module}": set the workflow's trigger`,
    );
  }
}

/**
 * Validates and throws when there is any error.
 *
 * @returns the warnings, for the caller to show.
 * @throws {WorkflowValidationError} listing every error.
 */
export function assertValidWorkflow(
  workflow: Workflow,
  catalog: ModuleCatalog,
): ValidationProblem[] {
  const result = validateWorkflow(workflow, catalog);
  if (result.errors.length > 0) throw new WorkflowValidationError(workflow.name, result);
  return result.warnings;
}

function checkNode(
  node: WorkflowNode,
  context: { catalog: ModuleCatalog; byId: Map<string, WorkflowNode>; found: Collector },
): void {
  const { found, byId } = context;
  const descriptor = context.catalog.describe(node.module);
  if (!descriptor) {
    found.nodeError("unknown-module", node, "module", `unknown module "${node.module}"`);
  } else if (descriptor.unsupported !== undefined) {
    found.nodeError(
      "unknown-module",
      node,
      "module",
      `module "${node.module}" is not supported by Flowgate: ${descriptor.unsupported}`,
    );
  } else if (descriptor.module_type !== node.kind) {
    found.nodeError(
      "kind-mismatch",
      node,
      "module",
      `module "${node.module}" is ${article(descriptor.module_type)} module, but the node is ${
        article(node.kind)
      } node`,
    );
  }

  node.next.forEach((targets, index) => {
    const field = outputField(node, descriptor, index);
    if (descriptor && index >= descriptor.outputs && targets.length > 0) {
      const count = descriptor.outputs === 1 ? "1 output" : `${descriptor.outputs} outputs`;
      found.nodeError(
        "unknown-output",
        node,
        field,
        `edge to "${targets[0]}" on output ${index + 1}, but module "${node.module}" has ${count}`,
      );
    }
    for (const target of targets) {
      if (!byId.has(target)) {
        found.nodeError("dangling-edge", node, field, `edge to missing node "${target}"`);
      }
    }
    if (targets.length > 1 && descriptor && !descriptor.multiple_output_connection) {
      found.error("multiple-connections", MULTIPLE_CONNECTIONS_MESSAGE, { node: node.id, field });
    }
  });

  if (node.filters && Object.values(node.filters).some((value) => value !== "")) {
    if (descriptor && !descriptor.support_filters) {
      found.nodeError(
        "filters-unsupported",
        node,
        "filters",
        `module "${node.module}" does not support filters`,
      );
    } else if (node.filters.selector !== "") {
      for (const key of ["value", "operator", "path"] as const) {
        if (node.filters[key] === "") {
          found.nodeError(
            "filters-incomplete",
            node,
            `filters.${key}`,
            `filters with a selector need a ${key}`,
          );
        }
      }
    }
  }
  if (descriptor) checkParams(node, descriptor, found);
}

function checkParams(node: WorkflowNode, descriptor: ModuleDescriptor, found: Collector): void {
  const declared = new Map(descriptor.params.map((param) => [param.id, param]));
  for (const [id, value] of Object.entries(node.params)) {
    const param = declared.get(id);
    const field = `params.${id}`;
    if (!param) {
      const known = descriptor.params.map((p) => `"${p.id}"`).join(", ") || "none";
      found.nodeError("unknown-param", node, field, `unknown param "${id}" (known: ${known})`);
      continue;
    }
    // A module's own default is never a problem, even when not among the options or not a list
    // (MISP's `threatlevel: Low`, `proposal_type: all`, `warninglists: ALL`): MISP writes it.
    if (isUnset(value) || isDefault(param, value)) continue;
    if (isScalarForList(param, value)) {
      // MISP's own blueprints store some multi-pickers as one string (hashlookup, BGP ranking);
      // MISP's modules wrap it into a list (Module_attach_enrichment, Module_organisation_if), as
      // Flowgate's do, so they import with a warning, not an error.
      found.nodeWarning(
        "invalid-param",
        node,
        field,
        `expected a list of values, got ${
          quoteValue(value)
        }; MISP wraps a single value into a list`,
      );
      continue;
    }
    const templateProblem = templateParamProblem(param, value);
    if (templateProblem) found.nodeError("invalid-param", node, field, templateProblem);
    const problem = paramTypeProblem(param, value);
    if (!problem) continue;
    if (problem.refused) found.nodeError(problem.code, node, field, problem.message);
    else found.nodeWarning(problem.code, node, field, problem.message);
  }
  for (const param of descriptor.params) {
    if (param.required && isUnset(node.params[param.id]) && isUnset(param.default)) {
      found.nodeError(
        "missing-param",
        node,
        `params.${param.id}`,
        `required param "${param.id}" has no value`,
      );
    }
  }
}

/** A multi-value select or picker given one string or number, as MISP's editor sometimes saved it. */
function isScalarForList(param: ParamDescriptor, value: unknown): boolean {
  const multiple = param.multiple === true || param.picker_create_new === true;
  return multiple && (param.type === "select" || param.type === "picker") &&
    (typeof value === "string" || typeof value === "number");
}

function quoteValue(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : JSON.stringify(value);
}

/** A value that does not fit its param; `refused` ones are errors, the others warnings. */
interface ParamProblem {
  code: ValidationCode;
  message: string;
  refused: boolean;
}

/**
 * What MISP does with a choice outside the options: its save checks no param (Workflow::$validate
 * checks the graph only) and its modules compare the value with `==`, so the node runs and takes
 * the branch PHP's comparison gives. Flowgate's modules compare the same way.
 */
const MISP_KEEPS_IT = "MISP saves it as it is and its module compares it as PHP does";

/**
 * Why `value` does not fit `param`, or undefined when it does. Text params that are not text are
 * refused (MISP's modules use them as strings; PHP 8 throws on a list). Choices (select, radio,
 * picker, checkbox) outside their options or of the wrong shape are warnings, since MISP saves
 * and runs them; only Flowgate's `strict_options` params refuse them.
 */
function paramTypeProblem(param: ParamDescriptor, value: unknown): ParamProblem | undefined {
  const refused = param.strict_options === true;
  const choice = (code: ValidationCode, detail: string): ParamProblem => ({
    code,
    message: refused ? detail : `${detail}; ${MISP_KEEPS_IT}`,
    refused,
  });
  switch (param.type) {
    case "input":
    case "textarea":
    case "hashpath":
      if (typeof value !== "string" && typeof value !== "number") {
        return {
          code: "invalid-param",
          message: `expected a string, got ${quoteValue(value)}`,
          refused: true,
        };
      }
      return param.integer ? integerProblem(param.integer, value) : undefined;
    case "checkbox":
      return CHECKBOX_VALUES.has(value)
        ? undefined
        : choice("invalid-param", `expected true or false, got ${quoteValue(value)}`);
    case "select":
    case "radio":
    case "picker": {
      const multiple = param.multiple === true || param.picker_create_new === true;
      if (multiple && !Array.isArray(value)) {
        return choice("invalid-param", `expected a list of values, got ${quoteValue(value)}`);
      }
      if (!multiple && (typeof value === "object" && value !== null)) {
        return choice("invalid-param", `expected a single value, got ${quoteValue(value)}`);
      }
      const values = Array.isArray(value) ? value : [value];
      const scalarProblem = values.find((item) => typeof item === "object" && item !== null);
      if (scalarProblem !== undefined) {
        return choice("invalid-param", `expected plain values, got ${quoteValue(scalarProblem)}`);
      }
      const strict = param.strict_options === true || param.picker_create_new !== true;
      const allowed = param.options ? optionValues(param.options) : [];
      if (!strict || allowed.length === 0) return undefined;
      const wrong = values.find((item) => item !== "" && !allowed.includes(String(item)));
      if (wrong === undefined) return undefined;
      return choice(
        refused ? "invalid-param" : "unknown-option",
        `${quoteValue(wrong)} is not one of ${allowed.map((option) => `"${option}"`).join(", ")}`,
      );
    }
  }
}

/** True when `value` is the param's declared default (as MISP writes it when nothing is chosen). */
function isDefault(param: ParamDescriptor, value: unknown): boolean {
  return param.default !== undefined && param.default !== "" &&
    JSON.stringify(param.default) === JSON.stringify(value);
}

/** Why a Flowgate whole-number param (`integer`) refuses `value`, or undefined when it fits. */
function integerProblem(
  bounds: { min: number; max: number },
  value: string | number,
): ParamProblem | undefined {
  const text = String(value).trim();
  const number = Number(text);
  if (/^-?\d+$/.test(text) && number >= bounds.min && number <= bounds.max) return undefined;
  return {
    code: "invalid-param",
    message: `expected a whole number from ${bounds.min} to ${bounds.max}, got ${
      quoteValue(value)
    }`,
    refused: true,
  };
}

/** MISP's `isCyclic`: DFS with white/grey/black colouring; a grey target is a back edge. */
function checkCycles(workflow: Workflow, byId: Map<string, WorkflowNode>, found: Collector): void {
  const colour = new Map<string, "grey" | "black">();
  for (const root of workflow.nodes) {
    if (colour.has(root.id)) continue;
    const stack: { node: WorkflowNode; targets: string[]; index: number }[] = [];
    colour.set(root.id, "grey");
    stack.push({ node: root, targets: root.next.flat(), index: 0 });
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as (typeof stack)[number];
      if (frame.index >= frame.targets.length) {
        colour.set(frame.node.id, "black");
        stack.pop();
        continue;
      }
      const target = byId.get(frame.targets[frame.index++] as string);
      if (!target) continue;
      const seen = colour.get(target.id);
      if (seen === "grey") {
        found.error("cycle", CYCLE_MESSAGE, { node: frame.node.id, field: "next" });
        return;
      }
      if (seen === undefined) {
        colour.set(target.id, "grey");
        stack.push({ node: target, targets: target.next.flat(), index: 0 });
      }
    }
  }
}

/** Reachability and MISP's path warnings, from the trigger node. */
function checkPaths(
  workflow: Workflow,
  context: {
    catalog: ModuleCatalog;
    byId: Map<string, WorkflowNode>;
    found: Collector;
    trigger: ModuleDescriptor | undefined;
  },
): void {
  const { catalog, byId, found, trigger } = context;
  const start =
    workflow.nodes.find((node) => node.kind === "trigger" && node.module === workflow.trigger) ??
      workflow.nodes.find((node) => node.kind === "trigger");
  // A trigger-less draft is walked from the nodes the trigger will be connected to.
  const roots = start ? [start.id] : workflow.trigger === null ? entryNodes(workflow) : [];
  if (roots.length === 0) return;
  const reached = new Set<string>(roots);
  const afterConcurrent = new Set<string>();
  const queue: { id: string; concurrent: boolean }[] = roots.map((id) => ({
    id,
    concurrent: false,
  }));
  while (queue.length > 0) {
    const { id, concurrent } = queue.shift() as (typeof queue)[number];
    const node = byId.get(id) as WorkflowNode;
    const isConcurrent = concurrent || node.module === "concurrent-task";
    for (const target of node.next.flat()) {
      if (!byId.has(target)) continue;
      const firstVisit = !reached.has(target);
      const newlyConcurrent = isConcurrent && !afterConcurrent.has(target);
      if (isConcurrent) afterConcurrent.add(target);
      reached.add(target);
      if (firstVisit || newlyConcurrent) queue.push({ id: target, concurrent: isConcurrent });
    }
  }

  const triggerBlocking = trigger?.blocking === true;
  const triggerCore =
    (trigger as { misp_core_format?: boolean } | undefined)?.misp_core_format === true;
  for (const node of workflow.nodes) {
    if (node.kind === "trigger") continue;
    if (!reached.has(node.id)) {
      const from = start ? "the trigger" : "an entry node";
      found.warn("unreachable-node", `${nodePrefix(node, "id")}: not reachable from ${from}`, {
        node: node.id,
        field: "id",
      });
      continue;
    }
    const descriptor = catalog.describe(node.module);
    if (!descriptor) continue;
    if (descriptor.blocking && trigger && !triggerBlocking) {
      found.warn(
        "blocking-in-non-blocking-workflow",
        `${
          nodePrefix(node, "module")
        }: Blocking module might not work as intended: trigger "${workflow.trigger}" is not blocking`,
        { node: node.id, field: "module" },
      );
    } else if (descriptor.blocking && afterConcurrent.has(node.id)) {
      found.warn(
        "blocking-after-concurrent-task",
        `${nodePrefix(node, "module")}: ${BLOCKING_PATH_MESSAGE}: it runs after a concurrent task`,
        { node: node.id, field: "module" },
      );
    }
    if (descriptor.expect_misp_core_format && trigger && !triggerCore) {
      found.warn(
        "core-format-mismatch",
        `${
          nodePrefix(node, "module")
        }: Potential data format issue: module "${node.module}" expects MISP core format, trigger "${workflow.trigger}" does not provide it`,
        { node: node.id, field: "module" },
      );
    }
  }
}
