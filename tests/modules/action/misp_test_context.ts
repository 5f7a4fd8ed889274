/**
 * Test support for the MISP-operation actions: real events from `../shared/data/` in core format,
 * and a `ModuleContext` around one module node with a real client pointed at the fake MISP.
 *
 * @module
 */

import type { JsonObject, NodeFilters } from "../../../engine/model.ts";
import { toCoreFormat } from "../../../triggers/core_format.ts";
import type { WorkflowModule } from "../../../engine/module.ts";
import { createMispClient } from "../../../modules/action/lib/misp_client.ts";
import { type FakeMisp, type FakeMispOptions, startFakeMisp } from "../../fakes/misp_server.ts";
import { createNodeContext, type NodeTestContext, readSharedData } from "./node_test_context.ts";

export { readSharedData };

/** The real sighting_2 event as MISP stores it (`{"Event": …}`). */
export function sightingEvent(): Promise<JsonObject> {
  return readSharedData("misp-event-pymisp-sighting_2.json");
}

/** The real shadow-proposals event (unwrapped), wrapped as `{"Event": …}`. */
export async function proposalsEvent(): Promise<JsonObject> {
  return { Event: await readSharedData("misp-event-pymisp-shadow-proposals.json") };
}

/** MISP's Country galaxy with the clusters for Luxembourg and Belgium (`/galaxies/view`). */
export const COUNTRY_GALAXY = {
  Galaxy: {
    id: "9",
    uuid: "84668357-5a8c-4bdd-9f0f-6b50b2aee4c1",
    name: "Country",
    type: "country",
  },
  GalaxyCluster: [
    { id: "100", value: "luxembourg", tag_name: 'misp-galaxy:country="luxembourg"' },
    { id: "101", value: "belgium", tag_name: 'misp-galaxy:country="belgium"' },
  ],
};

/** The `uuid` of `vulnerabilityAttribute()`. */
export const CVE_ATTRIBUTE_UUID = "0b6f3c51-8a6e-4f0a-9c7e-2f6d8e1a4b10";

/** A `vulnerability` attribute (id 300) for CVE-2021-44228, as MISP stores it in event 1. */
export function vulnerabilityAttribute(comment = ""): JsonObject {
  return {
    id: "300",
    uuid: CVE_ATTRIBUTE_UUID,
    event_id: "1",
    object_id: "0",
    type: "vulnerability",
    category: "External analysis",
    value: "CVE-2021-44228",
    to_ids: false,
    distribution: "5",
    comment,
    Tag: [],
  };
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
export type TestContext = NodeTestContext;

/** Builds the context the walker would give the module's node, with templates left as written. */
export function createModuleContext(options: TestContextOptions): TestContext {
  const { misp: fake, client, ...node } = options;
  const misp = fake
    ? createMispClient({
      url: fake.url,
      apiKey: fake.apiKey,
      tlsVerify: true,
      retries: client?.retries ?? 0,
      retryBaseMs: client?.retryBaseMs ?? 1,
      ...(client?.timeoutMs ? { timeoutMs: client.timeoutMs } : {}),
    })
    : null;
  return createNodeContext({
    ...node,
    renderTemplate: (text) => text,
    services: { misp, secrets: fake ? [fake.apiKey] : [] },
  });
}

/** A fake MISP holding the real sighting_2 event, plus whatever else `options` puts in it. */
export async function startSightingMisp(
  options: Omit<FakeMispOptions, "events"> = {},
): Promise<FakeMisp> {
  return startFakeMisp({ events: [await sightingEvent()], ...options });
}

/** `createModuleContext` on the sighting_2 event in core format, the data most tests run on. */
export async function createSightingContext(
  options: Omit<TestContextOptions, "data">,
): Promise<TestContext> {
  return createModuleContext({ ...options, data: coreFormat(await sightingEvent()) });
}

/** Normalises a stored event to core format, as the `event-publish` trigger would. */
export function coreFormat(event: JsonObject): JsonObject {
  return toCoreFormat(event, { trigger: "event-publish" });
}
