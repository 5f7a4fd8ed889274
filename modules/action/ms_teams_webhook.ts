/**
 * `ms-teams-webhook` (MS Teams Webhook, v0.5): posts the roaming data to a Teams "Incoming
 * Webhook" as `{"text": …}` (reference §2.2).
 *
 * Supported with a difference: MISP builds the body as `'{"text":"' . implode($data) . '"}'`,
 * which turns nested data into the word "Array" and sends it with a form content type, and it
 * ignores `data_extraction_path`. Flowgate sends valid JSON (`application/json`) whose `text` is
 * the JSON of the data, or of what `data_extraction_path` extracts from it.
 *
 * @module
 */

import type { ModuleDescriptor } from "../../engine/model.ts";
import { extract } from "../../engine/hash_path.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { createActionRedactor } from "./lib/redact.ts";
import { judgeWebhookResponse, sendHttpAction, webhookHeaders } from "./webhook.ts";

const DESCRIPTOR: ModuleDescriptor = mispActionDescriptor({
  id: "ms-teams-webhook",
  name: "MS Teams Webhook",
  version: "0.5",
  description:
    'Perform callbacks to the MS Teams webhook provided by the "Incoming Webhook" connector',
  icon: "MS_Teams.png",
  params: [
    {
      id: "url",
      label: "MS Teams Webhook URL",
      type: "input",
      placeholder: "https://example.com/test",
      required: true,
      secret: true,
    },
    {
      id: "content_type",
      label: "Content type",
      type: "select",
      default: "form",
      options: { form: "application/x-www-form-urlencoded" },
    },
    {
      id: "data_extraction_path",
      label: "Data extraction path",
      type: "hashpath",
      default: "",
      placeholder: "Attribute.{n}.AttributeTag.{n}.Tag.name",
    },
  ],
});

/** MS Teams Webhook: one POST per execution; success on 2xx. */
export const msTeamsWebhook: WorkflowModule = {
  descriptor: DESCRIPTOR,
  async exec(context: ModuleContext): Promise<boolean> {
    const { params } = context;
    const redactor = createActionRedactor(DESCRIPTOR, context);
    const url = typeof params.url === "string" ? params.url.trim() : "";
    if (url === "") {
      context.errors.push("URL not provided.");
      return false;
    }
    const data = context.roaming.getData();
    const path = typeof params.data_extraction_path === "string"
      ? params.data_extraction_path.trim()
      : "";
    const text = JSON.stringify(path === "" ? data : extract(data, path));
    const response = await sendHttpAction(context, {
      method: "POST",
      url,
      headers: webhookHeaders("application/json"),
      body: JSON.stringify({ text }),
      label: "Teams",
      ...(path === "" ? {} : { details: { data_extraction_path: path } }),
    }, redactor);
    if (!response) return context.dryRun;
    return judgeWebhookResponse(context, response, redactor);
  },
};
