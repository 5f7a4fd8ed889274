/**
 * The trigger contract: a MISP hook point with its flags, its normalisation and its entry
 * condition (reference §3.5, §4), and the lookup the engine finds a workflow's trigger with.
 * The catalogue in `triggers/` implements it; the engine receives the lookup as an argument.
 *
 * @module
 */

import type { JsonObject, ModuleDescriptor } from "./model.ts";

/** Where in MISP a trigger fires. */
export type TriggerScope =
  | "event"
  | "attribute"
  | "object"
  | "tag"
  | "user"
  | "log"
  | "post"
  | "sighting"
  | "shadow-attribute"
  | "event-report"
  | "analyst-data"
  | "others";

/** A trigger's descriptor: a module descriptor plus the trigger-only fields of reference §3.1. */
export interface TriggerDescriptor extends ModuleDescriptor {
  module_type: "trigger";
  scope: TriggerScope;
  /** The trigger converts its data to MISP core format (reference §5). */
  misp_core_format: boolean;
  /** 1 low, 2 medium, 3 high. */
  trigger_overhead: 1 | 2 | 3;
  trigger_overhead_message: string;
}

/** A trigger: descriptor, normalisation and entry condition. */
export interface TriggerDefinition {
  descriptor: TriggerDescriptor;
  /**
   * Turns what MISP sent into what the workflow sees. Idempotent on data already normalised.
   * Throws `NormalizationError` (a `TypeError`) saying what is wrong with the input.
   */
  normalize(raw: JsonObject): JsonObject;
  /**
   * Entry condition on the raw data (only `tag-attached-after-save` has one); false ends the run
   * with "Conditions on the trigger are not satisfied to continue the execution".
   */
  accepts(raw: JsonObject, params: Record<string, unknown>): boolean;
}

/** Finds the trigger a workflow starts from; the catalogue implements it, tests pass their own. */
export type TriggerLookup = (id: string) => TriggerDefinition | undefined;
