/**
 * Test support shared by the action tests: real data from `../shared/data/`, and the
 * `ModuleContext` the walker would give one action node (id "2") placed after its trigger node.
 *
 * @module
 */

import { RoamingData } from "../../../engine/roaming_data.ts";
import { resolveParams } from "../../../engine/params.ts";
import type {
  ActionRecord,
  JsonObject,
  NodeFilters,
  TriggeredWorkflow,
  WorkflowNode,
} from "../../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../../engine/module.ts";
import type { ModuleServices } from "../../../engine/module_services.ts";

/** Reads a file of `../shared/data/` as JSON. */
export async function readSharedData(name: string): Promise<JsonObject> {
  const url = new URL(`../../../../shared/data/${name}`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url));
}

/** Options of `createNodeContext`. */
export interface NodeContextOptions {
  module: WorkflowModule;
  /** Roaming data (already in core format). */
  data: JsonObject;
  params?: Record<string, unknown>;
  filters?: NodeFilters;
  dryRun?: boolean;
  trigger?: string;
  /** Renders Jinja params (and is the services' `renderTemplate`). */
  renderTemplate: ModuleServices["renderTemplate"];
  /** Services beyond the defaults (every integration null, no secrets). */
  services?: Partial<ModuleServices>;
}

/** A module context, what the module recorded and observed, and the roaming data it left. */
export interface NodeTestContext {
  context: ModuleContext;
  records: ActionRecord[];
  observed: Record<string, unknown>;
  /** The roaming data after the module ran. */
  data(): JsonObject;
}

/** Builds the context the walker would give the module's node, params resolved as it does. */
export function createNodeContext(options: NodeContextOptions): NodeTestContext {
  const trigger = options.trigger ?? "event-publish";
  const node: WorkflowNode = {
    id: "2",
    module: options.module.descriptor.id,
    kind: "action",
    params: options.params ?? {},
    next: [[]],
    ...(options.filters ? { filters: options.filters } : {}),
  };
  const triggerNode: WorkflowNode = {
    id: "1",
    module: trigger,
    kind: "trigger",
    params: {},
    next: [["2"]],
  };
  const workflow: TriggeredWorkflow = {
    name: "test",
    description: "",
    trigger,
    enabled: true,
    order: 0,
    on_timeout: "block",
    nodes: [triggerNode, node],
  };
  const roaming = new RoamingData(options.data);
  const records: ActionRecord[] = [];
  const observed: Record<string, unknown> = {};
  const context: ModuleContext = {
    node,
    params: resolveParams(options.module.descriptor, node, options.data, options.renderTemplate),
    roaming,
    errors: [],
    dryRun: options.dryRun ?? false,
    record: (action) => records.push(action),
    observe: (key, value) => observed[key] = value,
    defer: () => {},
    workflow,
    triggerNode,
    services: {
      outboundFetch: null,
      misp: null,
      mail: null,
      zmq: null,
      renderTemplate: options.renderTemplate,
      now: () => Date.now(),
      secrets: [],
      ...options.services,
    },
    signal: new AbortController().signal,
  };
  return { context, records, observed, data: () => roaming.getRawData() };
}
