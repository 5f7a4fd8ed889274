/**
 * `flowintel-create-case` (Flowintel :: Create case 0.5, newer MISP; extends Webhook there):
 * creates a Flowintel case from the event (`POST <url>/api/case/create_with_event` with the
 * `X-API-KEY` header) and, unless told not to, references it in the event with a
 * `flowintel-case` object through `POST /objects/add/<event id>` (reference §2.3, §3.5). MISP does
 * not add the object to the roaming data, nor does Flowgate.
 *
 * Deliberate differences: the API key is a secret param (redacted from records, errors and
 * traces); MISP ignores a failed object save, Flowgate reports it and fails the node (without
 * retrying, so the case is not created twice); a trailing slash of the URL is dropped; the
 * `case-name` default is rendered like any Jinja param (MISP passes it on literally); the
 * description says what the module does (MISP's is copied from the Teams module).
 *
 * @module
 */

import type { JsonObject, ModuleDescriptor } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { callMisp, requireMisp } from "./lib/misp_operation.ts";
import { isObject } from "./lib/node_filters.ts";
import { createActionRedactor, redactText } from "./lib/redact.ts";
import { eventOf } from "./lib/roaming_event.ts";
import { judgeWebhookResponse, sendHttpAction, webhookHeaders } from "./webhook.ts";

/** The object template MISP uses for the case reference. */
export const FLOWINTEL_CASE_TEMPLATE_UUID = "19df57c7-b315-4fd2-84e5-d81ab221425e";

const DESCRIPTOR: ModuleDescriptor = mispActionDescriptor({
  id: "flowintel-create-case",
  name: "Flowintel :: Create case",
  version: "0.5",
  description: "Create a Flowintel case from the Event and reference the case in the Event.",
  icon: "flowintel_logo.png",
  params: [
    {
      id: "url",
      label: "Flowintel URL",
      type: "input",
      placeholder: "https://flowintel-url.test",
      required: true,
    },
    {
      id: "apikey",
      label: "Flowintel API Key",
      type: "input",
      placeholder: "W4PWn54LzJ71TY55PzxChVBl4tyPuIkMPZ5iC0hRrSkQGfjF0pTYLp6CnHBP",
      required: true,
      secret: true,
    },
    {
      id: "create-reference",
      label: "Create reference",
      type: "select",
      default: "yes",
      options: { yes: "Reference the case in the Event", no: "Do not reference the case" },
    },
    {
      id: "case-name",
      label: "Case name",
      type: "textarea",
      default: "{{ Event.info }}",
      placeholder: "{{ Event.info }}",
      jinja_supported: true,
    },
  ],
});

/** Flowintel :: Create case: one case per event, referenced back in MISP. */
export const flowintelCreateCase: WorkflowModule = {
  descriptor: DESCRIPTOR,
  async exec(context: ModuleContext): Promise<boolean> {
    const { params } = context;
    const url = String(params.url ?? "").trim().replace(/\/+$/, "");
    const apiKey = String(params.apikey ?? "").trim();
    if (url === "" || apiKey === "") {
      context.errors.push("No URL or API Key");
      return false;
    }
    const reference = params["create-reference"] !== "no";
    if (reference) requireMisp(context);
    const redactor = createActionRedactor(DESCRIPTOR, context);
    redactor.add(apiKey);
    const data = context.roaming.getData();
    const event = eventOf(data);
    const title = String(params["case-name"] ?? "") || String(event.info ?? "");
    const env = isObject(data._env) ? data._env : {};
    const body = {
      title,
      description: `Case created for MISP Event ${event.uuid}`,
      ticket_id: event.uuid,
      event: data,
      origin_url: env.baseurl ?? null,
    };
    const response = await sendHttpAction(context, {
      method: "POST",
      url: `${url}/api/case/create_with_event`,
      headers: webhookHeaders("application/json", { "X-API-KEY": apiKey }),
      body: JSON.stringify(body),
      label: "Flowintel",
      details: { event_uuid: String(event.uuid ?? "") },
    }, redactor);
    if (context.dryRun) {
      if (reference) await recordReference(context, String(event.id ?? ""));
      return true;
    }
    if (!response || !judgeWebhookResponse(context, response, redactor)) return false;
    if (!reference) return true;
    const caseId = caseIdOf(response.body);
    if (caseId === null) {
      context.errors.push("Cannot reference the Flowintel case: the answer has no case_id");
      return false;
    }
    context.observe("case_id", caseId);
    try {
      await callMisp(context, caseObjectCall(String(event.id ?? ""), { url, caseId, title }));
    } catch (error) {
      const reason = redactText(error instanceof Error ? error.message : String(error), redactor);
      context.errors.push(
        `Cannot reference Flowintel case "${caseId}" in event "${event.id}": ${reason}`,
      );
      return false;
    }
    return true;
  },
};

/** The `flowintel-case` object MISP saves, as `POST /objects/add/<event id>` takes it. */
export function flowintelCaseObject(
  eventId: string,
  fields: { url: string; caseId: string; title: string },
): JsonObject {
  const attribute = (relation: string, type: string, category: string, value: string) => ({
    event_id: eventId,
    type,
    category,
    object_relation: relation,
    to_ids: false,
    value,
  });
  return {
    Object: {
      name: "flowintel-case",
      "meta-category": "misc",
      description: "A case as defined by flowintel.",
      template_version: 5,
      template_uuid: FLOWINTEL_CASE_TEMPLATE_UUID,
      Attribute: [
        attribute(
          "flowintel-url",
          "link",
          "External analysis",
          `${fields.url}/case/${fields.caseId}`,
        ),
        attribute("case-uuid", "text", "Other", fields.caseId),
        attribute("title", "text", "Other", fields.title),
      ],
    },
  };
}

function caseObjectCall(eventId: string, fields: { url: string; caseId: string; title: string }) {
  return {
    method: "POST" as const,
    path: `/objects/add/${eventId}`,
    body: flowintelCaseObject(eventId, fields),
    summary: `reference Flowintel case ${fields.caseId} in event ${eventId}`,
    details: { event_id: eventId, case_id: fields.caseId, object: "flowintel-case" },
  };
}

/** Dry run: the object call, whose case id only Flowintel's answer would give. */
async function recordReference(context: ModuleContext, eventId: string): Promise<void> {
  await callMisp(context, {
    method: "POST",
    path: `/objects/add/${eventId}`,
    summary:
      `reference the new Flowintel case in event ${eventId} (case id from Flowintel's answer)`,
    details: { event_id: eventId, object: "flowintel-case" },
  });
}

function caseIdOf(body: string): string | null {
  try {
    const answer = JSON.parse(body);
    const id = isObject(answer) ? answer.case_id : undefined;
    return id === undefined || id === null || id === "" ? null : String(id);
  } catch {
    return null;
  }
}
