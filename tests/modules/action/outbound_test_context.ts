/**
 * Test support for the outbound actions: a `ModuleContext` around one module node whose params
 * are resolved as the walker does (defaults, then Jinja through the real sandboxed renderer with
 * each param's escaping), with the services a test passes (outbound fetch, mail, ZMQ, MISP).
 *
 * @module
 */

import { renderTemplate } from "../../../engine/template.ts";
import type { JsonObject } from "../../../engine/model.ts";
import { toCoreFormat } from "../../../triggers/core_format.ts";
import type { WorkflowModule } from "../../../engine/module.ts";
import type { ModuleServices, OutboundFetch } from "../../../engine/module_services.ts";
import { createOutboundFetch } from "../../../modules/action/lib/outbound.ts";
import { createNodeContext, type NodeTestContext, readSharedData } from "./node_test_context.ts";

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
export type OutboundTestContext = NodeTestContext;

/** Builds the context the walker would give the module's node, Jinja rendered for real. */
export function createOutboundContext(options: OutboundContextOptions): OutboundTestContext {
  return createNodeContext({ ...options, renderTemplate });
}
