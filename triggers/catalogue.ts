/**
 * Every MISP workflow trigger (reference §4 and §13) with MISP's id, name, description, flags and
 * icon, its normalisation and its entry condition.
 *
 * @module
 */

import type { JsonObject, ParamDescriptor } from "../engine/model.ts";
import type { TriggerDefinition, TriggerDescriptor, TriggerScope } from "./trigger.ts";
import {
  normalizeAnalystData,
  normalizeCoreFormat,
  normalizeEnrichment,
  normalizeEventReport,
  normalizePost,
  type Normalizer,
  normalizeShadowAttribute,
  normalizeSighting,
  normalizeTagAttached,
  passThrough,
} from "./normalize.ts";
import { acceptsTagAttached, TAG_ATTACHED_PARAMS } from "./tag_attached.ts";

/** MISP's overhead levels (`WorkflowBaseTriggerModule::OVERHEAD_*`). */
const LOW = 1;
const MEDIUM = 2;
const HIGH = 3;

/** The fields that differ between triggers; the rest are the trigger base class defaults. */
interface TriggerSpec {
  id: string;
  name: string;
  description: string;
  icon: string;
  scope: TriggerScope;
  blocking: boolean;
  "misp_core_format": boolean;
  "trigger_overhead": 1 | 2 | 3;
  "trigger_overhead_message"?: string;
  params?: ParamDescriptor[];
  normalize: Normalizer;
  accepts?: (raw: JsonObject, params: Record<string, unknown>) => boolean;
}

const SPECS: TriggerSpec[] = [
  {
    id: "event-publish",
    name: "Event Publish",
    description: "This trigger is called just before a MISP Event starts the publishing process",
    icon: "upload",
    scope: "event",
    blocking: true,
    "misp_core_format": true,
    "trigger_overhead": LOW,
    normalize: normalizeCoreFormat,
  },
  {
    id: "event-before-save",
    name: "Event Before Save",
    description:
      "This trigger is called before an Event or any of its elements is about to be saved in the database",
    icon: "envelope",
    scope: "event",
    blocking: true,
    "misp_core_format": true,
    "trigger_overhead": HIGH,
    "trigger_overhead_message":
      "This trigger is called each time an Event or Attribute is about to be saved. This means that when a large quantity of Attributes are being saved (e.g. Feed pulling or synchronisation), the workflow will be run for as many time as there are Attributes.",
    normalize: normalizeCoreFormat,
  },
  {
    id: "event-after-save",
    name: "Event After Save",
    description:
      "This trigger is called after an Event or any of its elements has been saved in the database",
    icon: "envelope",
    scope: "event",
    blocking: false,
    "misp_core_format": true,
    "trigger_overhead": HIGH,
    "trigger_overhead_message":
      "This trigger is called each time an Event or Attribute have been saved. This means that when a large quantity of Attributes are being saved (e.g. Feed pulling or synchronisation), the workflow will be run for as many time as there are Attributes.",
    normalize: normalizeCoreFormat,
  },
  {
    id: "event-after-save-new",
    name: "Event After Save New",
    description: "This trigger is called after a new Event has been saved in the database",
    icon: "envelope",
    scope: "event",
    blocking: false,
    "misp_core_format": true,
    "trigger_overhead": LOW,
    normalize: normalizeCoreFormat,
  },
  {
    id: "event-after-save-new-from-pull",
    name: "Event After Save New From Pull",
    description:
      "This trigger is called after a new Event has been saved in the database from a PULL operation. This trigger executes in place of `event-after-save-new`",
    icon: "envelope",
    scope: "event",
    blocking: false,
    "misp_core_format": true,
    "trigger_overhead": LOW,
    normalize: normalizeCoreFormat,
  },
  {
    id: "attribute-after-save",
    name: "Attribute After Save",
    description: "This trigger is called after an Attribute has been saved in the database",
    icon: "cube",
    scope: "attribute",
    blocking: false,
    "misp_core_format": true,
    "trigger_overhead": HIGH,
    "trigger_overhead_message":
      "This trigger is called each time an Attribute has been saved. This means that when a large quantity of Attributes are being saved (e.g. Feed pulling or synchronisation), the workflow will be run for as many time as there are Attributes.",
    normalize: normalizeCoreFormat,
  },
  {
    id: "object-after-save",
    name: "Object After Save",
    description: "This trigger is called after an Object has been saved in the database",
    icon: "cubes",
    scope: "object",
    blocking: false,
    "misp_core_format": true,
    "trigger_overhead": HIGH,
    "trigger_overhead_message":
      "This trigger is called each time an Object has been saved. This means that when a large quantity of Objects are being saved (e.g. Feed pulling or synchronisation), the workflow will be run for as many time as there are Objects.",
    normalize: normalizeCoreFormat,
  },
  {
    id: "tag-attached-after-save",
    name: "Tag Attached After Save",
    description:
      "This trigger is called just after a Tag has been attached to an Event or an Attribute.",
    icon: "tags",
    scope: "tag",
    blocking: false,
    "misp_core_format": true,
    "trigger_overhead": HIGH,
    "trigger_overhead_message":
      "This trigger is called each time a Tag has been attached. This means that when a large quantity of Tags are being saved (e.g. Feed pulling or synchronisation), the workflow will be run for as many time as there are Tag attached.",
    params: TAG_ATTACHED_PARAMS,
    normalize: normalizeTagAttached,
    accepts: acceptsTagAttached,
  },
  {
    id: "sighting-after-save",
    name: "Sighting After Save",
    description: "This trigger is called when a sighting has been saved",
    icon: "eye",
    scope: "sighting",
    blocking: false,
    "misp_core_format": true,
    "trigger_overhead": MEDIUM,
    "trigger_overhead_message":
      "This trigger is called each time a Sighting has been saved. This means that when a large quantity of Sightings are being saved (e.g. Feed pulling or synchronisation), the workflow will be run for as many time as there are Sightings.",
    normalize: normalizeSighting,
  },
  {
    id: "shadow-attribute-before-save",
    name: "Shadow Attribute Before Save",
    description: "This trigger is called just before a Shadow Attribute is saved in the database",
    icon: "comment",
    scope: "shadow-attribute",
    blocking: true,
    "misp_core_format": true,
    "trigger_overhead": MEDIUM,
    "trigger_overhead_message":
      "This trigger is called each time a Shadow Attribute is about to be saved. This means that when a large quantity of Shadow Attributes are being saved (e.g. Feed pulling or synchronisation), the workflow will be run for as many time as there are Shadow Attributes.",
    normalize: normalizeShadowAttribute,
  },
  {
    id: "shadow-attribute-after-save",
    name: "Shadow Attribute After Save",
    description:
      "This trigger is called just after a Shadow Attribute has been saved in the database",
    icon: "comment",
    scope: "shadow-attribute",
    blocking: false,
    "misp_core_format": true,
    "trigger_overhead": MEDIUM,
    "trigger_overhead_message":
      "This trigger is called each time a Shadow Attribute has been saved. This means that when a large quantity of Shadow Attributes are being saved (e.g. Feed pulling or synchronisation), the workflow will be run for as many time as there are Shadow Attributes.",
    normalize: normalizeShadowAttribute,
  },
  {
    id: "event-report-after-save",
    name: "Event Report After Save",
    description: "This trigger is called after an Event Report has been saved in the database",
    icon: "file-alt",
    scope: "event-report",
    blocking: false,
    "misp_core_format": true,
    "trigger_overhead": LOW,
    normalize: normalizeEventReport,
  },
  {
    id: "enrichment-before-query",
    name: "Enrichment Before Query",
    description:
      "This trigger is called just before a query against the enrichment service is done",
    icon: "asterisk",
    scope: "others",
    blocking: true,
    "misp_core_format": true,
    "trigger_overhead": LOW,
    normalize: normalizeEnrichment,
  },
  {
    id: "user-before-save",
    name: "User Before Save",
    description: "This trigger is called just before a user is save in the database",
    icon: "user-plus",
    scope: "user",
    blocking: true,
    "misp_core_format": false,
    "trigger_overhead": LOW,
    normalize: passThrough,
  },
  {
    id: "user-after-save",
    name: "User After Save",
    description: "This trigger is called after a user has been saved in the database",
    icon: "user-edit",
    scope: "user",
    blocking: false,
    "misp_core_format": false,
    "trigger_overhead": LOW,
    normalize: passThrough,
  },
  {
    id: "log-after-save",
    name: "Log After Save",
    description: "This trigger is called after a Log event has been saved in the database",
    icon: "file",
    scope: "log",
    blocking: false,
    "misp_core_format": false,
    "trigger_overhead": HIGH,
    "trigger_overhead_message":
      "This trigger is called each time after Log event has been saved. This means that when a large quantity of Logs are being saved, the workflow will be run for as many time as there are log entries.",
    normalize: passThrough,
  },
  {
    id: "post-after-save",
    name: "Post After Save",
    description: "This trigger is called after a Post has been saved in the database",
    icon: "comment",
    scope: "post",
    blocking: false,
    "misp_core_format": false,
    "trigger_overhead": LOW,
    normalize: normalizePost,
  },
  {
    id: "event-before-delete",
    name: "Event Before Delete",
    description: "This trigger is called before an Event is about to be deleted from the database",
    icon: "trash",
    scope: "event",
    blocking: true,
    "misp_core_format": true,
    "trigger_overhead": LOW,
    "trigger_overhead_message":
      "This trigger is called each time an Event is about to be deleted, which shouldn't happen that frequently.",
    normalize: normalizeCoreFormat,
  },
  {
    id: "analyst-data-after-save",
    name: "Analyst Data After Save",
    description: "This trigger is called after an Analyst Data has been saved in the database",
    icon: "sticky-note",
    scope: "analyst-data",
    blocking: false,
    "misp_core_format": true,
    "trigger_overhead": LOW,
    "trigger_overhead_message": "This trigger is called each time an Analyst Data has been saved.",
    normalize: normalizeAnalystData,
  },
];

/** Every trigger Flowgate knows, in the order of reference §4 then §13. */
export const TRIGGERS: TriggerDefinition[] = SPECS.map(defineTrigger);

const BY_ID = new Map(TRIGGERS.map((trigger) => [trigger.descriptor.id, trigger]));

/** Thrown by {@linkcode requireTrigger} for an id that is not in the catalogue. */
export class UnknownTriggerError extends RangeError {
  /** The id that was asked for. */
  readonly id: string;

  /** Creates the error for `id`; the message lists the known ids. */
  constructor(id: string, options?: ErrorOptions) {
    super(
      `Unknown trigger ${JSON.stringify(id)}: expected one of ${
        TRIGGERS.map((t) => JSON.stringify(t.descriptor.id)).join(", ")
      }`,
      options,
    );
    this.name = "UnknownTriggerError";
    this.id = id;
  }
}

/** The trigger with MISP id `id`, or undefined when there is none. */
export function getTrigger(id: string): TriggerDefinition | undefined {
  return BY_ID.get(id);
}

/**
 * The trigger with MISP id `id`.
 *
 * @throws {UnknownTriggerError} when no trigger has that id.
 */
export function requireTrigger(id: string): TriggerDefinition {
  const trigger = BY_ID.get(id);
  if (trigger === undefined) throw new UnknownTriggerError(id);
  return trigger;
}

function defineTrigger(spec: TriggerSpec): TriggerDefinition {
  const descriptor: TriggerDescriptor = {
    id: spec.id,
    name: spec.name,
    version: "0.1",
    description: spec.description,
    "module_type": "trigger",
    icon: spec.icon,
    "icon_class": "",
    inputs: 0,
    outputs: 1,
    blocking: spec.blocking,
    "expect_misp_core_format": false,
    "support_filters": false,
    "multiple_output_connection": false,
    params: spec.params ?? [],
    "html_template": "trigger",
    scope: spec.scope,
    "misp_core_format": spec.misp_core_format,
    "trigger_overhead": spec.trigger_overhead,
    "trigger_overhead_message": spec.trigger_overhead_message ?? "",
  };
  const { normalize, accepts } = spec;
  return {
    descriptor,
    normalize: (raw) => normalize(raw, spec.id),
    accepts: accepts ?? (() => true),
  };
}
