/**
 * `splunk-hec-export` (Splunk HEC export, v0.2): sends the event, or one Splunk event per
 * attribute, to a Splunk HTTP Event Collector with `Authorization: Splunk <token>` (reference
 * §2.2).
 *
 * Deliberate fixes of MISP bugs (§9.7): the request is always sent as POST (the snapshot never
 * sends it); `verify_tls` is honoured (MISP ignores it and never verifies); failure messages reach
 * the node's errors (MISP loses them), with Webhook's wording.
 *
 * @module
 */

import type { JsonObject, ModuleDescriptor } from "../../engine/model.ts";
import { extract } from "../../engine/hash_path.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { createActionRedactor } from "./lib/redact.ts";
import { judgeWebhookResponse, sendHttpAction, webhookHeaders } from "./webhook.ts";

const DESCRIPTOR: ModuleDescriptor = {
  id: "splunk-hec-export",
  name: "Splunk HEC export",
  version: "0.2",
  description:
    "Export Event Data to Splunk HTTP Event Collector. Due to the potential high amount of requests, it's recommended to put this module after a `concurrent_task` logic module.",
  module_type: "action",
  icon: "Splunk.png",
  inputs: 1,
  outputs: 0,
  blocking: false,
  expect_misp_core_format: true,
  support_filters: false,
  multiple_output_connection: false,
  params: [
    {
      id: "url",
      label: "HEC URL",
      type: "input",
      placeholder: "https://splunk:8088/services/collector/event",
      required: true,
    },
    {
      id: "verify_tls",
      label: "Verify HTTPS Certificate",
      type: "select",
      options: { "1": "True", "0": "False" },
      default: 1,
    },
    {
      id: "hec_token",
      label: "HEC Token",
      type: "input",
      placeholder: "00000000-0000-0000-000000000000",
      required: true,
      secret: true,
    },
    {
      id: "source_type",
      label: "Source Type",
      type: "input",
      default: "",
      placeholder: "misp:event",
    },
    {
      id: "event_per_attribute",
      label: "Create one Splunk Event per Attribute",
      type: "select",
      options: { "1": "True", "0": "False" },
      default: 0,
    },
    {
      id: "data_extraction_model",
      label: "Data extraction model (JSON)",
      type: "textarea",
      default: "",
      placeholder: '{ "EventInfo": "Event.info", "AttributeValue": "Event.Attribute.{n}.value"}',
    },
  ],
};

/** PHP's `empty()` for the select values MISP stores ("0", 0, "", null…). */
function isOff(value: unknown): boolean {
  return value === undefined || value === null || value === "" || value === "0" || value === 0 ||
    value === false;
}

function asObject(value: unknown): JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? value as JsonObject
    : {};
}

/** The Splunk events: the whole data, or `{Attribute, Event without attributes}` per attribute. */
function splunkEvents(data: JsonObject, perAttribute: boolean): unknown[] {
  if (!perAttribute) return [data];
  const { Attribute, _AttributeFlattened: _flattened, ...event } = asObject(data.Event);
  return (Array.isArray(Attribute) ? Attribute : []).map((attribute) => ({
    Attribute: attribute,
    Event: event,
  }));
}

/** `{field: Hash::extract(event, path)}`, a one-element result unwrapped as MISP does. */
function applyModel(event: unknown, model: Record<string, unknown>): JsonObject {
  const result: JsonObject = {};
  for (const [field, path] of Object.entries(model)) {
    const values = extract(event, String(path ?? ""));
    const count = Array.isArray(values) ? values.length : Object.keys(values).length;
    result[field] = count === 1 ? (values as Record<string, unknown>)[0] ?? null : values;
  }
  return result;
}

/** Splunk HEC export: one POST per Splunk event, stopping at the first failure. */
export const splunkHecExport: WorkflowModule = {
  descriptor: DESCRIPTOR,
  async exec(context: ModuleContext): Promise<boolean> {
    const { params } = context;
    const redactor = createActionRedactor(DESCRIPTOR, context);
    const url = String(params.url ?? "").trim();
    if (url === "") {
      context.errors.push("URL not provided.");
      return false;
    }
    const token = String(params.hec_token ?? "").trim();
    if (token === "") {
      context.errors.push("Authorization token not provided.");
      return false;
    }
    let events = splunkEvents(context.roaming.getData(), !isOff(params.event_per_attribute));
    const modelText = String(params.data_extraction_model ?? "").trim();
    if (modelText !== "") {
      let model: unknown;
      try {
        model = JSON.parse(modelText);
      } catch (error) {
        context.errors.push(
          `Invalid data extraction model: ${error instanceof Error ? error.message : error}`,
        );
        return false;
      }
      events = events.map((event) => applyModel(event, asObject(model)));
    }
    const sourceType = String(params.source_type ?? "").trim();
    for (const [index, event] of events.entries()) {
      const response = await sendHttpAction(context, {
        method: "POST",
        url,
        headers: webhookHeaders("application/json", { Authorization: `Splunk ${token}` }),
        body: JSON.stringify(sourceType === "" ? { event } : { event, sourcetype: sourceType }),
        allowSelfSigned: isOff(params.verify_tls),
        label: "Splunk HEC",
        details: { event: index + 1, of: events.length },
      }, redactor);
      if (!response) {
        if (context.dryRun) continue;
        return false;
      }
      if (!judgeWebhookResponse(context, response, redactor)) return false;
    }
    return true;
  },
};
