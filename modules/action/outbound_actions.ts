/**
 * Outbound notification and export actions (webhook, Teams, Telegram, Splunk, ZMQ, mail, chat).
 *
 * @module
 */

import type { WorkflowModule } from "../../engine/module.ts";
import { webhook } from "./webhook.ts";
import { msTeamsWebhook } from "./ms_teams_webhook.ts";
import { telegramSendAlert } from "./telegram_send_alert.ts";
import { splunkHecExport } from "./splunk_hec_export.ts";
import { pushZmq } from "./push_zmq.ts";
import { sendMail } from "./send_mail.ts";
import { sendLogMail } from "./send_log_mail.ts";
import { slackMessage } from "./slack_message.ts";
import { mattermostMessage } from "./mattermost_message.ts";
import { flowintelCreateCase } from "./flowintel_create_case.ts";
import { tagCveFromEnrichment } from "./tag_cve_from_enrichment.ts";

/** Every outbound action module, listed once for the registry. */
export const OUTBOUND_ACTIONS: WorkflowModule[] = [
  webhook,
  msTeamsWebhook,
  telegramSendAlert,
  splunkHecExport,
  pushZmq,
  sendMail,
  sendLogMail,
  slackMessage,
  mattermostMessage,
  flowintelCreateCase,
  tagCveFromEnrichment,
];
