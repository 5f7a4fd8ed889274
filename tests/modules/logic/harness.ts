/**
 * Runs one logic module the way the walker does (params resolved with defaults, a real
 * `RoamingData`) and returns what it decided, pushed and observed.
 *
 * @module
 */

import type { DeferredWalk, JsonObject } from "../../../engine/model.ts";
import type { WorkflowModule } from "../../../engine/module.ts";
import { resolveParams } from "../../../engine/params.ts";
import { RoamingData } from "../../../engine/roaming_data.ts";
import { requireTrigger } from "../../../triggers/catalogue.ts";
import { node, testServices, workflowOf } from "../../engine/fake_modules.ts";

/** What one exec produced. */
export interface ModuleRun {
  result: boolean;
  errors: string[];
  observed: Record<string, unknown>;
  deferred: DeferredWalk[];
  roaming: RoamingData;
}

/** Executes `module` on `data` with the node params `params`. */
export async function runModule(
  module: WorkflowModule,
  params: Record<string, unknown>,
  data: JsonObject | RoamingData,
): Promise<ModuleRun> {
  const roaming = data instanceof RoamingData ? data : new RoamingData(data);
  const graphNode = node("n", module.descriptor.id, module.descriptor.module_type, [], params);
  const services = testServices();
  const run: ModuleRun = { result: false, errors: [], observed: {}, deferred: [], roaming };
  run.result = await module.exec({
    node: graphNode,
    params: resolveParams(module.descriptor, graphNode, roaming.getData(), services.renderTemplate),
    roaming,
    errors: run.errors,
    dryRun: true,
    record: () => {},
    observe: (key, value) => {
      run.observed[key] = value;
    },
    defer: (walk) => run.deferred.push(walk),
    workflow: workflowOf("event-publish", [graphNode]),
    triggerNode: node("t", "event-publish", "trigger"),
    services,
    signal: new AbortController().signal,
  });
  return run;
}

const DATA = new URL("../../../../shared/data/", import.meta.url);

/** A real MISP event from `shared/data`, normalised as `event-publish` does. */
export async function realEvent(name: string): Promise<JsonObject> {
  const raw = JSON.parse(await Deno.readTextFile(new URL(name, DATA)));
  return requireTrigger("event-publish").normalize(raw);
}

/** A core-format event with attributes carrying the given tags (event tags inherited). */
export function taggedEvent(eventTags: string[], attributeTags: string[][]): JsonObject {
  const tag = (name: string) => ({ name });
  const attributes = attributeTags.map((names, index) => ({
    id: String(index + 1),
    type: "ip-dst",
    value: `10.0.0.${index + 1}`,
    Tag: names.map(tag),
    _allTags: [...eventTags, ...names].map(tag),
  }));
  return {
    Event: {
      id: "1",
      Tag: eventTags.map(tag),
      Attribute: attributes,
      _AttributeFlattened: attributes,
    },
  };
}
