/**
 * The trigger contract, defined in the engine (`engine/trigger_contract.ts`) so the engine needs
 * nothing from this folder; re-exported here for the catalogue and its readers.
 *
 * @module
 */

export type {
  TriggerDefinition,
  TriggerDescriptor,
  TriggerLookup,
  TriggerScope,
} from "../engine/trigger_contract.ts";
