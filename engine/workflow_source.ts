/**
 * One entry point for workflow sources: detects YAML, MISP workflow JSON or a blueprint from the
 * content type, the file extension or the content, enforces the size limits and parses.
 *
 * @module
 */

import { attachTrigger } from "./attach_trigger.ts";
import { importBlueprint } from "./blueprint.ts";
import { importMispWorkflow } from "./misp_codec.ts";
import type { ModuleCatalog, Workflow } from "./model.ts";
import { assertNodeCount, assertWorkflowDepth, assertWorkflowSize } from "./workflow_limits.ts";
import { WorkflowSyntaxError } from "./workflow_syntax_error.ts";
import { parseWorkflowYaml } from "./yaml_codec.ts";

/** The formats a workflow source can be in. */
export type WorkflowFormat = "yaml" | "misp" | "blueprint";

/** Hints for `parseWorkflowSource`. */
export interface ParseWorkflowSourceOptions {
  /** File name; `.yaml`/`.yml` and `.json` decide the syntax. */
  filename?: string;
  /** HTTP content type; YAML and JSON types decide the syntax. */
  contentType?: string;
  /**
   * Trigger for a blueprint whose description does not name one, or for a trigger-less YAML draft;
   * without it such a source is a trigger-less draft. Ignored for a workflow that has a trigger.
   */
  trigger?: string;
  /** Resolves node kinds and default timeout policies (recommended). */
  catalog?: ModuleCatalog;
}

/** A parsed source and the format it was in. */
export interface ParsedWorkflowSource {
  workflow: Workflow;
  format: WorkflowFormat;
}

const YAML_TYPES = /^(application|text)\/(x-)?yaml\b/i;
const JSON_TYPES = /^application\/([a-z0-9.+-]*\+)?json\b/i;
const EXPECTED_JSON = 'Unrecognised workflow JSON: expected a MISP workflow ({"Workflow": {…}} ' +
  'or its Drawflow graph) or a MISP blueprint ({"WorkflowBlueprint": {…}})';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function syntaxOf(text: string, options: ParseWorkflowSourceOptions): "yaml" | "json" {
  const contentType = options.contentType ?? "";
  if (YAML_TYPES.test(contentType)) return "yaml";
  if (JSON_TYPES.test(contentType)) return "json";
  const extension = /\.([a-z]+)$/i.exec(options.filename ?? "")?.[1]?.toLowerCase();
  if (extension === "yaml" || extension === "yml") return "yaml";
  if (extension === "json") return "json";
  return /^\s*[{[]/.test(text) ? "json" : "yaml";
}

/** Whether parsed JSON is a blueprint, a MISP workflow, or neither. */
export function detectJsonFormat(json: unknown): Exclude<WorkflowFormat, "yaml"> | undefined {
  if (!isObject(json)) return undefined;
  if (isObject(json.WorkflowBlueprint)) return "blueprint";
  if (isObject(json.Workflow)) return "misp";
  if ("data" in json) {
    if (Array.isArray(json.data)) return "blueprint";
    if (isObject(json.data) || typeof json.data === "string") return "misp";
    return undefined;
  }
  const nodes = Object.entries(json).filter(([key]) => key !== "_frames");
  const looksLikeNode = (value: unknown) =>
    isObject(value) && isObject(value.data) && typeof value.data.module_type === "string";
  return nodes.length > 0 && nodes.every(([, value]) => looksLikeNode(value)) ? "misp" : undefined;
}

/**
 * Parses a workflow source in any supported format.
 *
 * @throws {WorkflowLimitError} (a `WorkflowSyntaxError`) when the source exceeds
 * `MAX_WORKFLOW_BYTES`, the workflow `MAX_NODES`, or the nesting `MAX_DATA_DEPTH`.
 * @throws {WorkflowSyntaxError} when the source cannot be read; JSON of another kind gets one line
 * saying what was expected.
 */
export function parseWorkflowSource(
  text: string,
  options: ParseWorkflowSourceOptions = {},
): ParsedWorkflowSource {
  assertWorkflowSize(text);
  const parsed = parseBySyntax(text, options);
  assertNodeCount(parsed.workflow.name, parsed.workflow.nodes.length);
  if (parsed.workflow.trigger === null && options.trigger !== undefined && options.catalog) {
    parsed.workflow = attachTrigger(parsed.workflow, options.trigger, options.catalog);
  }
  return parsed;
}

function parseBySyntax(text: string, options: ParseWorkflowSourceOptions): ParsedWorkflowSource {
  if (syntaxOf(text, options) === "yaml") {
    return { workflow: parseWorkflowYaml(text, { catalog: options.catalog }), format: "yaml" };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new WorkflowSyntaxError(`Invalid JSON: ${(error as Error).message}`, { cause: error });
  }
  assertWorkflowDepth(json);
  const format = detectJsonFormat(json);
  if (format === "blueprint") {
    const workflow = importBlueprint(json, { trigger: options.trigger, catalog: options.catalog });
    return { workflow, format };
  }
  if (format === "misp") return { workflow: importMispWorkflow(json, options.catalog), format };
  throw new WorkflowSyntaxError(EXPECTED_JSON);
}
