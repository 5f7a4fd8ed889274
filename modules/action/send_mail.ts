/**
 * `send-mail` (Send Mail): mails the rendered subject and body to the chosen recipients over SMTP
 * (`SMTP_URL`), one message per recipient (reference §2.2, §7.2). "All accounts" and "All admins"
 * are resolved through MISP's `GET /admin/users/index`; disabled users are skipped.
 *
 * Differences from MISP: explicit addresses are mailed as they are (MISP only mails addresses of
 * existing users), so they need no MISP; the body is sent as HTML (interpolated values
 * HTML-escaped, line breaks kept) with a plain-text alternative; no GPG/S-MIME; a delivery failure
 * after some mails went out is logged and recorded, not retried (MISP only logs too), while a
 * failure before any mail went out is transient and retried.
 *
 * @module
 */

import type { JsonObject, ModuleDescriptor } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { IntegrationMissingError, TransientError } from "../../engine/module_errors.ts";
import { log } from "../../engine/log.ts";
import { sha256Hex } from "../../engine/digest.ts";
import { MispError } from "./lib/misp_client.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { createActionRedactor, redactRecord, redactText } from "./lib/redact.ts";

/** Recipient choices that stand for groups of MISP users. */
export const ALL_ACCOUNTS = "All accounts";
/** Users whose role has `perm_site_admin`. */
export const ALL_ADMINS = "All admins";
/** (Send Log Mail) users with a `perm_admin` role in the org of the log's user. */
export const ORG_ADMINS = "Org admins";

/** The recipient choices that stand for groups of MISP users. */
function recipientGroups(orgAdmins: boolean): string[] {
  return orgAdmins ? [ALL_ACCOUNTS, ALL_ADMINS, ORG_ADMINS] : [ALL_ACCOUNTS, ALL_ADMINS];
}

/** One row of MISP's `GET /admin/users/index`. */
interface UserRow {
  User?: { id?: unknown; email?: unknown; org_id?: unknown; disabled?: unknown };
  Role?: { perm_site_admin?: unknown; perm_admin?: unknown };
}

/** Options of `createSendMailModule`. */
export interface SendMailModuleOptions {
  descriptor: ModuleDescriptor;
  /** Resolves "Org admins" from `Log.user_id` (Send Log Mail). */
  orgAdmins: boolean;
}

function isSet(value: unknown): boolean {
  return value === true || value === 1 || value === "1";
}

function recipientList(value: unknown): string[] {
  const list = Array.isArray(value)
    ? value
    : typeof value === "string" && value !== ""
    ? [value]
    : [];
  return list.map((item) => String(item).trim()).filter((item) => item !== "");
}

/** The descriptor of a mail module with MISP's params; `groups` are the recipient choices. */
export function mailDescriptor(
  base: Pick<ModuleDescriptor, "id" | "name" | "description">,
  groups: string[],
): ModuleDescriptor {
  return mispActionDescriptor({
    ...base,
    version: "0.1",
    icon: "envelope",
    params: [
      {
        id: "recipients",
        label: "Recipients",
        type: "picker",
        multiple: true,
        options: groups,
        default: [ALL_ADMINS],
        picker_create_new: true,
      },
      {
        id: "mail_template_subject",
        label: "Mail template subject",
        type: "textarea",
        placeholder: "The **template** will be rendered using *Jinja2*!",
        jinja_supported: true,
      },
      {
        id: "mail_template_body",
        label: "Mail template body",
        type: "textarea",
        placeholder: "The **template** will be rendered using *Jinja2*!",
        jinja_supported: true,
        escape: "html",
      },
    ],
  });
}

/** Plain text from the HTML-escaped body: tags dropped, the five entities decoded. */
function textOf(html: string): string {
  return html.replace(/<[^>]*>/g, "").replaceAll("&lt;", "<").replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&");
}

async function listUsers(context: ModuleContext, group: string): Promise<UserRow[]> {
  const misp = context.services.misp;
  if (!misp) {
    throw new IntegrationMissingError(`MISP_URL and MISP_API_KEY (to resolve "${group}")`);
  }
  try {
    const rows = await misp.request<unknown>("GET", "/admin/users/index");
    return Array.isArray(rows) ? rows as UserRow[] : [];
  } catch (error) {
    if (error instanceof MispError && error.transient) {
      throw new TransientError(error.message, { cause: error });
    }
    throw error;
  }
}

/** The addresses the recipients param stands for, deduplicated, in order. */
async function resolveRecipients(
  context: ModuleContext,
  recipients: string[],
  orgAdmins: boolean,
): Promise<{ addresses: string[]; ignored: string[] }> {
  const groups = recipientGroups(orgAdmins);
  const wanted = recipients.filter((item) => groups.includes(item));
  const addresses = new Set<string>();
  const ignored: string[] = [];
  if (wanted.length > 0) {
    const users = (await listUsers(context, wanted[0]!)).filter((row) =>
      !isSet(row.User?.disabled)
    );
    const logUserId = (context.roaming.getData().Log as JsonObject | undefined)?.user_id;
    const logOrg = users.find((row) => String(row.User?.id) === String(logUserId))?.User?.org_id;
    for (const row of users) {
      const email = String(row.User?.email ?? "");
      const selected = wanted.includes(ALL_ACCOUNTS) ||
        (wanted.includes(ALL_ADMINS) && isSet(row.Role?.perm_site_admin)) ||
        (wanted.includes(ORG_ADMINS) && logOrg !== undefined && isSet(row.Role?.perm_admin) &&
          String(row.User?.org_id) === String(logOrg));
      if (selected && email !== "") addresses.add(email);
    }
  }
  for (const item of recipients) {
    if (groups.includes(item)) continue;
    if (/^[^\s@]+@[^\s@]+$/.test(item)) addresses.add(item);
    else ignored.push(item);
  }
  return { addresses: [...addresses], ignored };
}

/** Builds Send Mail or Send Log Mail. */
export function createSendMailModule(options: SendMailModuleOptions): WorkflowModule {
  const { descriptor } = options;
  return {
    descriptor,
    async exec(context: ModuleContext): Promise<boolean> {
      const { params } = context;
      const recipients = recipientList(params.recipients);
      if (recipients.length === 0) {
        context.errors.push("No recipient set.");
        return false;
      }
      const subject = String(params.mail_template_subject ?? "");
      if (subject.trim() === "") {
        context.errors.push("The mail template is empty.");
        return false;
      }
      const redactor = createActionRedactor(descriptor, context);
      let resolved: { addresses: string[]; ignored: string[] };
      let unresolvedGroups: string[] = [];
      try {
        resolved = await resolveRecipients(context, recipients, options.orgAdmins);
      } catch (error) {
        if (!(error instanceof IntegrationMissingError)) throw error;
        if (!context.dryRun) {
          context.errors.push(error.message);
          return false;
        }
        // A dry run without MISP still says what it would do: the groups stay unresolved.
        const groups = recipientGroups(options.orgAdmins);
        unresolvedGroups = recipients.filter((item) => groups.includes(item));
        resolved = await resolveRecipients(
          context,
          recipients.filter((item) => !groups.includes(item)),
          options.orgAdmins,
        );
      }
      const groupNote = unresolvedGroups.length > 0
        ? ` and ${
          unresolvedGroups.map((group) => `"${group}"`).join(", ")
        } (resolved through MISP when run live)`
        : "";
      const body = String(params.mail_template_body ?? "");
      const html = `<div style="white-space: pre-wrap">${body}</div>`;
      context.record(redactRecord({
        kind: "mail",
        dry: context.dryRun,
        method: "SMTP",
        body_digest: await sha256Hex(html),
        summary: `Mail "${subject}" to ${resolved.addresses.length} recipient(s)${groupNote}`,
        details: {
          recipients: resolved.addresses,
          ...(unresolvedGroups.length > 0 ? { unresolved_groups: unresolvedGroups } : {}),
          subject,
          ...(resolved.ignored.length > 0 ? { ignored: resolved.ignored } : {}),
        },
      }, redactor));
      if (context.dryRun) return true;
      const mail = context.services.mail;
      if (!mail) throw new IntegrationMissingError("SMTP_URL");
      const text = textOf(body);
      let sent = 0;
      const failed: string[] = [];
      for (const address of resolved.addresses) {
        try {
          await mail.send({ to: [address], subject, text, html });
          sent++;
        } catch (error) {
          if (sent === 0 && error instanceof TransientError) throw error;
          const message = redactText(
            error instanceof Error ? error.message : String(error),
            redactor,
          );
          log.warn("Mail delivery failed", {
            module: descriptor.id,
            recipient: address,
            error: message,
          });
          failed.push(address);
        }
      }
      context.observe("mail", { sent, failed });
      return true;
    },
  };
}

/** Send Mail: mails the rendered subject and body to each chosen recipient over SMTP. */
export const sendMail: WorkflowModule = createSendMailModule({
  descriptor: mailDescriptor({
    id: "send-mail",
    name: "Send Mail",
    description:
      "Allow to send a Mail to a list or recipients. Requires functional misp-modules to be functional.",
  }, [ALL_ACCOUNTS, ALL_ADMINS]),
  orgAdmins: false,
});
