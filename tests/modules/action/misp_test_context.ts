/**
 * Test support for the MISP-operation actions: real events from `../shared/data/` in core format,
 * and a `ModuleContext` around one module node with a real client pointed at the fake MISP.
 *
 * @module
 */

import { RoamingData } from "../../../engine/roaming_data.ts";
import { resolveParams } from "../../../engine/params.ts";
import type {
  ActionRecord,
  JsonObject,
  NodeFilters,
  Workflow,
  WorkflowNode,
} from "../../../engine/model.ts";
import { toCoreFormat } from "../../../triggers/core_format.ts";
import type { ModuleContext, WorkflowModule } from "../../../modules/module.ts";
import type { MispApi } from "../../../modules/services.ts";
import { createMispClient } from "../../../modules/action/misp_client.ts";
import type { FakeMisp } from "../../fakes/misp_server.ts";

/** Reads a file of `../shared/data/` as JSON. */
export async function readSharedData(name: string): Promise<JsonObject> {
  const url = new URL(`../../../../shared/data/${name}`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url));
}

/** The real sighting_2 event as MISP stores it (`{"Event": …}`). */
export function sightingEvent(): Promise<JsonObject> {
  return readSharedData("misp-event-pymisp-sighting_2.json");
}

/** The real shadow-proposals event (unwrapped), wrapped as `{"Event": …}`. */
export async function proposalsEvent(): Promise<JsonObject> {
  return { Event: await readSharedData("misp-event-pymisp-shadow-proposals.json") };
}

/** Options of `createModuleContext`. */
export interface TestContextOptions {
  module: WorkflowModule;
  /** Roaming data (already in core format). */
  data: JsonObject;
  params?: Record<string, unknown>;
  filters?: NodeFilters;
  /** A fake MISP to point a real client at; null leaves MISP unconfigured. */
  misp: FakeMisp | null;
  dryRun?: boolean;
  trigger?: string;
  /** Client options for retry tests. */
  client?: { retries?: number; timeoutMs?: number; retryBaseMs?: number };
}

/** A module context plus what the module did to it. */
export interface TestContext {
  context: ModuleContext;
  records: ActionRecord[];
  observed: Record<string, unknown>;
  /** The roaming data after the module ran. */
  data(): JsonObject;
}

/** Builds the context the walker would give the module's node. */
export function createModuleContext(options: TestContextOptions): TestContext {
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
  const workflow: Workflow = {
    name: "test",
    description: "",
    trigger,
    enabled: true,
    order: 0,
    "on_timeout": "block",
    nodes: [triggerNode, node],
  };
  const roaming = new RoamingData(options.data);
  const misp: MispApi | null = options.misp
    ? createMispClient({
      url: options.misp.url,
      apiKey: options.misp.apiKey,
      tlsVerify: true,
      retries: options.client?.retries ?? 0,
      retryBaseMs: options.client?.retryBaseMs ?? 1,
      ...(options.client?.timeoutMs ? { timeoutMs: options.client.timeoutMs } : {}),
    })
    : null;
  const records: ActionRecord[] = [];
  const observed: Record<string, unknown> = {};
  const context: ModuleContext = {
    node,
    params: resolveParams(options.module.descriptor, node, options.data, (text) => text),
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
      misp,
      mail: null,
      zmq: null,
      renderTemplate: (text) => text,
      now: () => Date.now(),
      secrets: options.misp ? [options.misp.apiKey] : [],
    },
    signal: new AbortController().signal,
  };
  return { context, records, observed, data: () => roaming.getRawData() };
}

/** Normalises a stored event to core format, as the `event-publish` trigger would. */
export function coreFormat(event: JsonObject): JsonObject {
  return toCoreFormat(event, { trigger: "event-publish" });
}
