/**
 * Test support for the outbound actions: a `ModuleContext` around one module node whose params
 * are resolved as the walker does (defaults, then Jinja through the real sandboxed renderer with
 * each param's escaping), with the services a test passes (outbound fetch, mail, ZMQ, MISP).
 *
 * @module
 */

import { RoamingData } from "../../../engine/roaming_data.ts";
import { resolveParams } from "../../../engine/params.ts";
import { renderTemplate } from "../../../engine/template.ts";
import type { ActionRecord, JsonObject, Workflow, WorkflowNode } from "../../../engine/model.ts";
import { toCoreFormat } from "../../../triggers/core_format.ts";
import type { ModuleContext, WorkflowModule } from "../../../modules/module.ts";
import type { ModuleServices, OutboundFetch } from "../../../modules/services.ts";
import { createOutboundFetch } from "../../../modules/action/outbound.ts";

/** Reads a file of `../shared/data/` as JSON. */
export async function readSharedData(name: string): Promise<JsonObject> {
  const url = new URL(`../../../../shared/data/${name}`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url));
}

/** The real sighting_2 event in core format, as the `event-publish` trigger hands it over. */
export async function sightingData(): Promise<JsonObject> {
  return toCoreFormat(await readSharedData("misp-event-pymisp-sighting_2.json"), {
    trigger: "event-publish",
  });
}

/** An outbound client that may reach the local fakes (127.0.0.1) and nothing else private. */
export function loopbackFetch(
  options: { timeoutMs?: number; maxResponseBytes?: number } = {},
): OutboundFetch {
  return createOutboundFetch({ allow: ["127.0.0.1/32"], ...options });
}

/** Options of `createOutboundContext`. */
export interface OutboundContextOptions {
  module: WorkflowModule;
  data: JsonObject;
  params?: Record<string, unknown>;
  dryRun?: boolean;
  trigger?: string;
  services?: Partial<ModuleServices>;
}

/** A module context plus what the module recorded. */
export interface OutboundTestContext {
  context: ModuleContext;
  records: ActionRecord[];
  observed: Record<string, unknown>;
}

/** Builds the context the walker would give the module's node. */
export function createOutboundContext(options: OutboundContextOptions): OutboundTestContext {
  const trigger = options.trigger ?? "event-publish";
  const node: WorkflowNode = {
    id: "2",
    module: options.module.descriptor.id,
    kind: "action",
    params: options.params ?? {},
    next: [[]],
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
    on_timeout: "block",
    nodes: [triggerNode, node],
  };
  const records: ActionRecord[] = [];
  const observed: Record<string, unknown> = {};
  const context: ModuleContext = {
    node,
    params: resolveParams(options.module.descriptor, node, options.data, renderTemplate),
    roaming: new RoamingData(options.data),
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
      renderTemplate,
      now: () => Date.now(),
      secrets: [],
      ...options.services,
    },
    signal: new AbortController().signal,
  };
  return { context, records, observed };
}

/** SHA-256 hex of `text`, to check a record's `body_digest`. */
export async function digestOf(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
