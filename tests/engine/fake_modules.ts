/**
 * Small modules and graph builders for engine tests: actions and IFs whose behaviour a test sets,
 * recording the order they ran in.
 *
 * @module
 */

import { offlineServices } from "../../modules/offline_services.ts";
import type {
  JsonObject,
  ModuleDescriptor,
  ModuleType,
  RunResult,
  TriggeredWorkflow,
  WorkflowNode,
} from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import type { ModuleServices } from "../../engine/module_services.ts";
import type { ModuleLookup } from "../../engine/walker.ts";

/** Builds a descriptor with Flowgate's defaults for the fields a test does not care about. */
export function descriptor(
  id: string,
  kind: Exclude<ModuleType, "trigger">,
  extra: Partial<ModuleDescriptor> = {},
): ModuleDescriptor {
  return {
    id,
    name: id,
    version: "0.1",
    description: `Test module ${id}`,
    module_type: kind,
    icon: "flask",
    inputs: 1,
    outputs: kind === "logic" ? 2 : 1,
    blocking: false,
    expect_misp_core_format: false,
    support_filters: false,
    multiple_output_connection: false,
    params: [],
    ...extra,
  };
}

/** What a fake action does when run. */
export interface FakeBehaviour {
  ok?: boolean;
  blocking?: boolean;
  errors?: string[];
  throws?: Error;
  run?: (context: ModuleContext) => void;
  extra?: Partial<ModuleDescriptor>;
}

/** An action that logs `node_id` into `log` and behaves as told. */
export function fakeAction(
  id: string,
  log: string[],
  behaviour: FakeBehaviour = {},
): WorkflowModule {
  return {
    descriptor: descriptor(id, "action", {
      blocking: behaviour.blocking ?? false,
      ...behaviour.extra,
    }),
    exec(context) {
      log.push(context.node.id);
      behaviour.run?.(context);
      context.errors.push(...(behaviour.errors ?? []));
      if (behaviour.throws) throw behaviour.throws;
      return behaviour.ok ?? true;
    },
  };
}

/** A logic module that logs `node_id` and answers `decide(context)`. */
export function fakeIf(
  id: string,
  log: string[],
  decide: (context: ModuleContext) => boolean,
): WorkflowModule {
  return {
    descriptor: descriptor(id, "logic", { html_template: "if" }),
    exec(context) {
      log.push(context.node.id);
      return decide(context);
    },
  };
}

/** A lookup over `modules` by id. */
export function lookupOf(...modules: WorkflowModule[]): ModuleLookup {
  const byId = new Map(modules.map((module) => [module.descriptor.id, module]));
  return { getModule: (id) => byId.get(id) };
}

/** A node; `next` lists the targets per output. */
export function node(
  id: string,
  module: string,
  kind: ModuleType,
  next: string[][] = [],
  params: Record<string, unknown> = {},
): WorkflowNode {
  return { id, module, kind, params, next };
}

/** A workflow named `test-flow` on `trigger` (trigger node first). */
export function workflowOf(
  trigger: string,
  nodes: WorkflowNode[],
  name = "test-flow",
): TriggeredWorkflow {
  return {
    name,
    description: "",
    trigger,
    enabled: true,
    order: 100,
    on_timeout: "block",
    nodes,
  };
}

/** A run that succeeded with nothing traced, as a stubbed nested `runWorkflow` answers. */
export function successfulRun(): RunResult {
  return {
    outcome: "success",
    success: true,
    errors: [],
    trace: [],
    deferred: [],
    retries: [],
    duration_ms: 0,
  };
}

/** Services with real templates and every integration off. */
export function testServices(secrets: string[] = []): ModuleServices {
  return offlineServices({ now: () => 0, secrets });
}

/** A small core-format event with the given event tags. */
export function eventWith(tags: string[] = []): JsonObject {
  return {
    Event: {
      id: "1",
      uuid: "5c6ab833-676c-42f3-95d2-034f0a00020f",
      timestamp: "1551253649",
      info: "Test event",
      distribution: "1",
      Tag: tags.map((name) => ({ name })),
      Attribute: [],
      _AttributeFlattened: [],
    },
  };
}
