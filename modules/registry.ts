/**
 * The module registry: every trigger, logic and action module by id; the catalogue codecs and
 * validation look descriptors up in; the lookups every run is given (`ENGINE_LOOKUPS`). Nothing
 * else knows a module by name.
 *
 * @module
 */

import type { ModuleCatalog, ModuleDescriptor, ModuleType } from "../engine/model.ts";
import type { WorkflowModule } from "../engine/module.ts";
import type { EngineLookups } from "../engine/run_workflow.ts";
import type { ModuleLookup } from "../engine/walker.ts";
import { getTrigger, TRIGGERS } from "../triggers/catalogue.ts";
import { LOGIC_MODULES } from "./logic/mod.ts";
import { ACTION_MODULES } from "./action/mod.ts";
import { UNSUPPORTED_MODULES } from "./unsupported.ts";

/** Two modules (or a module and a trigger) share an id: the registry refuses to load. */
export class DuplicateModuleError extends Error {
  /** Names the duplicated id. */
  constructor(id: string) {
    super(`Cannot load modules: id "${id}" is declared twice`);
    this.name = "DuplicateModuleError";
  }
}

/** Indexes `modules` by id, refusing duplicates among them and against `reserved` ids. */
export function indexModules(
  modules: readonly WorkflowModule[],
  reserved: Iterable<string> = [],
): Map<string, WorkflowModule> {
  const taken = new Set(reserved);
  const byId = new Map<string, WorkflowModule>();
  for (const module of modules) {
    const id = module.descriptor.id;
    if (taken.has(id) || byId.has(id)) throw new DuplicateModuleError(id);
    byId.set(id, module);
  }
  return byId;
}

const TRIGGER_DESCRIPTORS = new Map<string, ModuleDescriptor>();
for (const trigger of TRIGGERS) {
  const id = trigger.descriptor.id;
  if (TRIGGER_DESCRIPTORS.has(id)) throw new DuplicateModuleError(id);
  TRIGGER_DESCRIPTORS.set(id, trigger.descriptor);
}

const MODULES = indexModules([...LOGIC_MODULES, ...ACTION_MODULES], TRIGGER_DESCRIPTORS.keys());

const UNSUPPORTED = new Map<string, ModuleDescriptor>();
for (const descriptor of UNSUPPORTED_MODULES) {
  if (MODULES.has(descriptor.id) || TRIGGER_DESCRIPTORS.has(descriptor.id)) {
    throw new DuplicateModuleError(descriptor.id);
  }
  UNSUPPORTED.set(descriptor.id, descriptor);
}

/** The logic or action module with id `id`, or undefined (triggers are not executable modules). */
export function getModule(id: string): WorkflowModule | undefined {
  return MODULES.get(id);
}

/** Every logic and action module, optionally of one kind, in registration order. */
export function listModules(kind?: Exclude<ModuleType, "trigger">): WorkflowModule[] {
  const all = [...MODULES.values()];
  return kind ? all.filter((module) => module.descriptor.module_type === kind) : all;
}

/**
 * Descriptors of every trigger, logic and action module, by id, and of the MISP modules Flowgate
 * knows but cannot run (their `unsupported` reason makes validation refuse them).
 */
export const MODULE_CATALOG: ModuleCatalog = {
  describe(id: string): ModuleDescriptor | undefined {
    return TRIGGER_DESCRIPTORS.get(id) ?? MODULES.get(id)?.descriptor ?? UNSUPPORTED.get(id);
  },
};

/** The registry as the walker sees it (`getModule`). */
export const MODULE_REGISTRY: ModuleLookup = { getModule };

/**
 * What every run is given unless a test brings its own: this registry's modules and the trigger
 * catalogue. The engine imports neither; the service layer, the CLI and benches pass these.
 */
export const ENGINE_LOOKUPS: Readonly<EngineLookups> = {
  modules: MODULE_REGISTRY,
  triggers: getTrigger,
};
