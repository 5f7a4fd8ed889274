/**
 * `slack` (misp-modules action module `slack`, v0.1): posts a message to a Slack channel with the
 * Web API's `chat.postMessage` (reference §5.2). Flowgate runs it natively, so a MISP workflow that
 * uses the misp-modules `slack` node runs unchanged.
 *
 * Differences from misp-modules: the template is rendered once (the walker renders
 * `jinja_supported` params, with Slack mrkdwn escaping of interpolated values) instead of twice,
 * since rendering rendered MISP data again would evaluate `{{ }}` found in the data; and a refused
 * message fails the node (misp-modules only prints the error and reports success).
 *
 * @module
 */

import type { ModuleDescriptor } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { TransientError } from "../../engine/module_errors.ts";
import { apiRootOf } from "./lib/outbound.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { createActionRedactor } from "./lib/redact.ts";
import {
  isSuccessStatus,
  isTransientStatus,
  quoteBody,
  sendHttpAction,
  webhookHeaders,
} from "./webhook.ts";

/** Slack's Web API root; `SLACK_API_URL` or `apiUrl` replace it (tests, proxies). */
export const SLACK_API_URL = "https://slack.com/api";

/** Options of `createSlackMessage`. */
export interface SlackMessageOptions {
  /** Web API root; default `SLACK_API_URL` from the environment, then Slack's. */
  apiUrl?: string;
}

const DESCRIPTOR: ModuleDescriptor = mispActionDescriptor({
  id: "slack",
  name: "slack",
  version: "0.1",
  description: "Simplistic module to send messages to a Slack channel.",
  icon: "python",
  icon_class: "fab",
  support_filters: true,
  params: [
    {
      id: "slack_bot_token",
      label: "Slack Bot Token",
      type: "input",
      required: true,
      secret: true,
    },
    { id: "channel_id", label: "Channel Id", type: "input", required: true },
    {
      id: "message_template",
      label: "Message Template",
      type: "textarea",
      placeholder: "The **template** will be rendered using *Jinja2*!",
      jinja_supported: true,
      escape: "slack",
    },
  ],
});

/** The message misp-modules posts: the rendered template, or the data as JSON in a code block. */
export function chatMessageText(template: unknown, data: unknown): string {
  const text = typeof template === "string" ? template : "";
  return text !== "" ? text : `\`\`\`\n${JSON.stringify(data)}\n\`\`\``;
}

/** Builds the module with its Web API root (injected in tests). */
export function createSlackMessage(options: SlackMessageOptions = {}): WorkflowModule {
  return {
    descriptor: DESCRIPTOR,
    async exec(context: ModuleContext): Promise<boolean> {
      const { params } = context;
      const redactor = createActionRedactor(DESCRIPTOR, context);
      const root = apiRootOf(options.apiUrl, {
        envName: "SLACK_API_URL",
        fallback: SLACK_API_URL,
      });
      const channel = String(params.channel_id ?? "");
      const response = await sendHttpAction(context, {
        method: "POST",
        url: `${root}/chat.postMessage`,
        headers: webhookHeaders("application/json; charset=utf-8", {
          Authorization: `Bearer ${String(params.slack_bot_token ?? "")}`,
        }),
        body: JSON.stringify({
          channel,
          text: chatMessageText(params.message_template, context.roaming.getData()),
        }),
        kind: "chat",
        label: "Slack",
        details: { channel },
      }, redactor);
      if (!response) return context.dryRun;
      let answer: { ok?: boolean; error?: string } = {};
      try {
        answer = JSON.parse(response.body);
      } catch {
        // Not JSON: judged on the status alone.
      }
      if (isSuccessStatus(response.status) && answer.ok === true) return true;
      const reason = answer.error ??
        `HTTP ${response.status}: ${quoteBody(response.body, redactor)}`;
      const message = `Slack refused the message: ${reason}`;
      if (isTransientStatus(response.status) || answer.error === "ratelimited") {
        throw new TransientError(message);
      }
      context.errors.push(message);
      return false;
    },
  };
}

/** The `slack` module with the Web API root from `SLACK_API_URL` (or Slack's). */
export const slackMessage: WorkflowModule = createSlackMessage();
