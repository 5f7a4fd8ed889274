/**
 * `send-log-mail` (Send Log Mail): Send Mail for the `log-after-save` trigger, with the extra
 * recipient "Org admins": users with a `perm_admin` role in the org of the log's user (`Log.user_id`;
 * nobody when that user is unknown, as MISP fails open) (reference §2.2).
 *
 * @module
 */

import type { WorkflowModule } from "../../engine/module.ts";
import {
  ALL_ACCOUNTS,
  ALL_ADMINS,
  createSendMailModule,
  mailDescriptor,
  ORG_ADMINS,
} from "./send_mail.ts";

/** Send Log Mail: Send Mail for `log-after-save`, able to mail the admins of the log user's org. */
export const sendLogMail: WorkflowModule = createSendMailModule({
  descriptor: mailDescriptor({
    id: "send-log-mail",
    name: "Send Log Mail",
    description:
      "Allow to send a Mail to a list or recipients, based on a Log trigger. Requires functional misp-modules to be functional.",
  }, [ALL_ACCOUNTS, ALL_ADMINS, ORG_ADMINS]),
  orgAdmins: true,
});
