/**
 * `telegram-send-alert` (Telegram Send Alert, v0.1): sends the rendered template to a Telegram
 * chat through the Bot API's `sendMessage`, in HTML parse mode (reference §2.2). The bot token is a
 * secret: records show `/bot[redacted]/sendMessage` and errors never carry it.
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

/** Telegram's Bot API root; `TELEGRAM_API_ROOT` or `apiRoot` replace it (tests, proxies). */
export const TELEGRAM_API_ROOT = "https://api.telegram.org";

/** Options of `createTelegramSendAlert`. */
export interface TelegramSendAlertOptions {
  /** Bot API root without the trailing slash; default `TELEGRAM_API_ROOT` from the environment. */
  apiRoot?: string;
}

const DESCRIPTOR: ModuleDescriptor = mispActionDescriptor({
  id: "telegram-send-alert",
  name: "Telegram Send Alert",
  version: "0.1",
  description: "Send a message alert to a Telegram channel",
  icon: "Telegram.png",
  params: [
    {
      id: "bot_token",
      label: "Telegram Bot Token",
      type: "input",
      placeholder: "bot123:ABC",
      required: true,
      secret: true,
    },
    { id: "chat_id", label: "Telegram Chat id", type: "input", placeholder: "123", required: true },
    {
      id: "message_body_template",
      label: "Message Body Template",
      type: "textarea",
      placeholder: "Template redendered using Jinja2",
      jinja_supported: true,
      escape: "telegram-html",
    },
  ],
});

/** Builds the module with its Bot API root (injected in tests). */
export function createTelegramSendAlert(options: TelegramSendAlertOptions = {}): WorkflowModule {
  return {
    descriptor: DESCRIPTOR,
    async exec(context: ModuleContext): Promise<boolean> {
      const { params } = context;
      const redactor = createActionRedactor(DESCRIPTOR, context);
      const token = String(params.bot_token ?? "").trim().replace(/^bot/, "");
      redactor.add(token);
      const root = apiRootOf(options.apiRoot, {
        envName: "TELEGRAM_API_ROOT",
        fallback: TELEGRAM_API_ROOT,
      });
      const response = await sendHttpAction(context, {
        method: "POST",
        url: `${root}/bot${token}/sendMessage`,
        headers: webhookHeaders("application/json"),
        body: JSON.stringify({
          chat_id: params.chat_id,
          text: String(params.message_body_template ?? ""),
          parse_mode: "HTML",
        }),
        label: "Telegram",
        details: { chat_id: String(params.chat_id ?? "") },
      }, redactor);
      if (!response) return context.dryRun;
      if (isSuccessStatus(response.status)) return true;
      if (response.status === 401) {
        context.errors.push("Authentication failed");
        return false;
      }
      const message = `Something went wrong with the request: ${
        quoteBody(response.body, redactor)
      }`;
      if (isTransientStatus(response.status)) throw new TransientError(message);
      context.errors.push(message);
      return false;
    },
  };
}

/** Telegram Send Alert with the Bot API root from `TELEGRAM_API_ROOT` (or Telegram's). */
export const telegramSendAlert: WorkflowModule = createTelegramSendAlert();
