/**
 * The workflow model every part of Flowgate shares: workflows, nodes, edges, module descriptors,
 * runs and traces. Formats (YAML, MISP JSON, blueprints) convert to and from these types.
 *
 * @module
 */

/** A JSON object as MISP sends it (event, attribute, user…). */
export type JsonObject = Record<string, unknown>;

/** MISP's three module families. */
export type ModuleType = "trigger" | "logic" | "action";

/** UI widget of a param, as MISP's editor knows it (reference §3.2). */
export type ParamType =
  | "input"
  | "textarea"
  | "select"
  | "picker"
  | "hashpath"
  | "checkbox"
  | "radio";

/** Escaping applied to a Jinja-rendered param, chosen by where the text goes. */
export type TemplateEscape = "none" | "html" | "json" | "slack" | "telegram-html" | "markdown";

/** Options of a select or picker param, in the three shapes MISP uses. */
export type ParamOptions =
  | Record<string, string>
  | string[]
  | { name: string; value: string | number }[];

/** One param of a module (reference §3.2), plus Flowgate's validation and safety flags. */
export interface ParamDescriptor {
  id: string;
  label: string;
  type: ParamType;
  options?: ParamOptions;
  default?: unknown;
  placeholder?: string;
  multiple?: boolean;
  display_on?: Record<string, unknown>;
  jinja_supported?: boolean;
  picker_create_new?: boolean;
  /** Flowgate: validation refuses a node without a non-empty value. */
  required?: boolean;
  /** Flowgate: the value is a secret (token, password); traces and chat show it redacted. */
  secret?: boolean;
  /** Flowgate: escaping for the rendered template (default "none", as MISP). */
  escape?: TemplateEscape;
  /** Flowgate: the value must be one of `options` (selects); pickers with create-new are free. */
  strict_options?: boolean;
  /** Flowgate: an input that must hold a whole number within these bounds (refused at save). */
  integer?: { min: number; max: number };
  /** MISP's `hashpath` options: `is_sub_selector` marks a path applied to each selected item. */
  hashpath?: { is_sub_selector: boolean };
}

/** A module's public description (reference §3.1); what `/modules` and the catalogue show. */
export interface ModuleDescriptor {
  id: string;
  name: string;
  version: string;
  description: string;
  module_type: ModuleType;
  icon: string;
  icon_class?: string;
  inputs: number;
  outputs: number;
  blocking: boolean;
  expect_misp_core_format: boolean;
  support_filters: boolean;
  multiple_output_connection: boolean;
  params: ParamDescriptor[];
  html_template?: "if" | "concurrent" | "trigger";
  /** Flowgate-only module (not in MISP); export to MISP JSON keeps it but MISP cannot run it. */
  flowgate_only?: boolean;
  /** A MISP module Flowgate knows but cannot run: why. Validation refuses nodes that use it. */
  unsupported?: string;
  /** Enabled by default in MISP (★ in the reference). */
  enabled_by_default?: boolean;
}

/** Looks module and trigger descriptors up by id; the registry implements it, codecs and validation take it. */
export interface ModuleCatalog {
  /** The descriptor of a module or trigger, or undefined when no such id exists. */
  describe(id: string): ModuleDescriptor | undefined;
}

/** Node-level filters of an action node (`saved_filters`, reference §8.3). All strings. */
export interface NodeFilters {
  selector: string;
  value: string;
  operator: string;
  path: string;
}

/** Presentation data kept for round trips and drawing; the engine never reads it. */
export interface NodeLayout {
  x: number;
  y: number;
}

/**
 * One node of a workflow graph. `next[i]` lists, in order, the ids of the nodes connected to the
 * module's output `i + 1` (`output_1` = then/next, `output_2` = else). The trigger node is a node
 * too, with `module` = the trigger id.
 */
export interface WorkflowNode {
  /** Author-chosen short id (YAML) or MISP's node id as a string. Unique in the workflow. */
  id: string;
  /** Module id (`tag-if`, `stop-execution`, `event-publish` for the trigger node…). */
  module: string;
  /** Module family, as the graph says it (MISP JSON) or as the registry resolves it (YAML). */
  kind: ModuleType;
  /** MISP's `indexed_params`. */
  params: Record<string, unknown>;
  /** MISP's `saved_filters`, only for modules that support filters. */
  filters?: NodeFilters;
  /** Outgoing edges per output, in order. */
  next: string[][];
  /** Display name in MISP's editor (`IF :: Tag`), kept for round trips. */
  label?: string;
  layout?: NodeLayout;
}

/** What a workflow does when it misses the verdict deadline. */
export type TimeoutPolicy = "block" | "allow";

/**
 * A workflow: one graph for one trigger. A workflow imported from a trigger-less blueprint (MISP's
 * blueprints are fragments dropped onto a trigger's canvas) has `trigger: null` and no trigger
 * node: a disabled draft that never runs until a trigger is chosen (`attachTrigger`).
 */
export interface Workflow {
  name: string;
  description: string;
  /** Trigger id, e.g. `event-publish`; equals the trigger node's module. Null: none chosen yet. */
  trigger: string | null;
  enabled: boolean;
  /** Several workflows may listen to one trigger: ascending `order` decides who runs first. */
  order: number;
  on_timeout: TimeoutPolicy;
  /** Every node, the trigger node first (a trigger-less draft has none). */
  nodes: WorkflowNode[];
}

/** A workflow with a trigger: the only kind the walker runs. */
export type TriggeredWorkflow = Workflow & { trigger: string };

/** True when the workflow has a trigger (false for a trigger-less blueprint draft). */
export function hasTrigger(workflow: Workflow): workflow is TriggeredWorkflow {
  return typeof workflow.trigger === "string";
}

/**
 * How a run ended. `retrying`: the walk ended well but a non-blocking action failed transiently
 * and its queue retries are still due; the run becomes `success` or `failure` once they settle.
 */
export type Outcome = "success" | "blocked" | "failure" | "pending-approval" | "retrying";

/**
 * The `observed` key a blocking module sets, with the id of the approval it opened, when it blocks
 * only until someone approves (`require-approval`): the run ends `pending-approval`, not `blocked`.
 */
export const PENDING_APPROVAL_KEY = "pending_approval";

/** What an action did, or in a dry run would have done. Never carries secrets. */
export interface ActionRecord {
  /** `http`, `misp`, `mail`, `zmq`, `chat`… */
  kind: string;
  /** True when the action was not performed (dry run or replay). */
  dry: boolean;
  /** One line for humans: `POST https://hooks.example/x (json, 1.2 KiB)`. */
  summary: string;
  method?: string;
  url?: string;
  /** SHA-256 hex of the body that was or would be sent. */
  body_digest?: string;
  /** Structured details (MISP endpoint, recipients, tag names…), secrets redacted. */
  details?: JsonObject;
}

/** Status of one visited node in a trace. */
export type TraceStatus = "success" | "failure" | "skipped" | "guarded";

/** One visited node in a run, in visiting order. */
export interface TraceEntry {
  /** Visiting order, from 0. */
  seq: number;
  node_id: string;
  module: string;
  kind: ModuleType;
  status: TraceStatus;
  /** Logic nodes: the output taken (`then`, `else`, `next`) or `none` when the path ends. */
  branch?: string;
  /** What exec returned (true/false) for executed nodes. */
  result?: boolean;
  errors: string[];
  duration_ms: number;
  /** Values the node looked at (extracted tags, distribution…), for "why was this blocked". */
  observed?: JsonObject;
  /** Actions performed or, in a dry run, recorded. */
  actions?: ActionRecord[];
  /** Free text: why skipped, re-entrancy guard, deferred to the queue… */
  note?: string;
  /** Edge path from the trigger (`1:output_1:0:5`), as MISP's walker builds it. */
  path: string[];
}

/** A deferred sub-walk created by `concurrent-task` (reference §6.7). */
export interface DeferredWalk {
  /** Node to start from (executed first if it is an action). */
  start_node_id: string;
  /** Snapshot of the roaming data (filters already applied). */
  data: JsonObject;
  /** Concurrent-task node that created it. */
  from_node_id: string;
}

/** A non-blocking action that failed on a transient error, to retry from the queue. */
export interface ActionRetry {
  node_id: string;
  /** Roaming data (filtered view) the node saw, to run it again on the same input. */
  data: JsonObject;
  error: string;
}

/** Who or what started a run. */
export interface RunActor {
  kind: "misp" | "webhook" | "replay" | "chat" | "api" | "cli" | "queue";
  /** User or system id: `slack:U123`, `admin`, the MISP address… */
  id?: string;
}

/** The result of running one workflow on one payload. */
export interface RunResult {
  outcome: Outcome;
  /** MISP's walk result: true unless blocked or failed. */
  success: boolean;
  /** MISP-style error strings (what a blocking trigger's caller is told). */
  errors: string[];
  trace: TraceEntry[];
  /** The node that decided a block or failure. */
  deciding_node_id?: string;
  /** Concurrent-task sub-walks to run after the main walk (queue or in-process). */
  deferred: DeferredWalk[];
  /** Non-blocking actions that failed transiently (`TransientError`), for queue retries. */
  retries: ActionRetry[];
  duration_ms: number;
}
