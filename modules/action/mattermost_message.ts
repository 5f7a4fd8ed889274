/**
 * `mattermost` (misp-modules action module `mattermost`, v0.1): posts a message to a Mattermost
 * channel through its REST API, `POST /api/v4/posts` with the bot's access token (reference §5.2).
 * Flowgate runs it natively, so a MISP workflow that uses the misp-modules `mattermost` node runs
 * unchanged.
 *
 * Differences from misp-modules: the template is rendered once (see `slack_message.ts`), with
 * Markdown escaping of interpolated values; a refused post fails the node (misp-modules raises and
 * MISP still reports success); no `GET /users/me` login call precedes the post; a host without a
 * port uses the scheme's port (the Python driver always defaults to 443).
 *
 * @module
 */

import type { ModuleDescriptor } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { TransientError } from "../../engine/module_errors.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { createActionRedactor } from "./lib/redact.ts";
import { chatMessageText } from "./slack_message.ts";
import {
  isSuccessStatus,
  isTransientStatus,
  quoteBody,
  sendHttpAction,
  webhookHeaders,
} from "./webhook.ts";

const DESCRIPTOR: ModuleDescriptor = mispActionDescriptor({
  id: "mattermost",
  name: "mattermost",
  version: "0.1",
  description: "Simplistic module to send message to a Mattermost channel.",
  icon: "python",
  icon_class: "fab",
  support_filters: true,
  params: [
    {
      id: "mattermost_hostname",
      label: "Mattermost Hostname",
      type: "input",
      placeholder: "example.mattermost.com",
      required: true,
    },
    {
      id: "bot_access_token",
      label: "Bot Access Token",
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
      escape: "markdown",
    },
  ],
});

/** The posts endpoint for a hostname given as `host`, `host:port` or a URL (https by default). */
export function mattermostPostsUrl(hostname: string): string {
  const text = hostname.trim();
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  return `${url.origin}/api/v4/posts`;
}

/** The `mattermost` module: posts the rendered template to a Mattermost channel. */
export const mattermostMessage: WorkflowModule = {
  descriptor: DESCRIPTOR,
  async exec(context: ModuleContext): Promise<boolean> {
    const { params } = context;
    const redactor = createActionRedactor(DESCRIPTOR, context);
    let url: string;
    try {
      url = mattermostPostsUrl(String(params.mattermost_hostname ?? ""));
    } catch {
      context.errors.push(
        `Invalid Mattermost hostname: "${String(params.mattermost_hostname ?? "")}"`,
      );
      return false;
    }
    const channel = String(params.channel_id ?? "");
    const response = await sendHttpAction(context, {
      method: "POST",
      url,
      headers: webhookHeaders("application/json", {
        Authorization: `Bearer ${String(params.bot_access_token ?? "")}`,
      }),
      body: JSON.stringify({
        channel_id: channel,
        message: chatMessageText(params.message_template, context.roaming.getData()),
      }),
      kind: "chat",
      label: "Mattermost",
      details: { channel_id: channel },
    }, redactor);
    if (!response) return context.dryRun;
    if (isSuccessStatus(response.status)) return true;
    let reason = quoteBody(response.body, redactor);
    try {
      const answer = JSON.parse(response.body) as { message?: string };
      if (answer.message) reason = answer.message;
    } catch {
      // Not JSON: the body is quoted as it is.
    }
    const message = `Mattermost refused the post: HTTP ${response.status}: ${reason}`;
    if (isTransientStatus(response.status)) throw new TransientError(message);
    context.errors.push(message);
    return false;
  },
};
