/**
 * `approve <id>` and `deny <id> [reason]`: decide a publication parked for approval, by its
 * approval id or the id of the run it parked.
 *
 * @module
 */

import { decideFromChat } from "../approvals.ts";
import { type Card, textCard } from "../cards.ts";
import { type ChatCommand, type CommandContext, requireFirstArg } from "./command.ts";

/** The `approve` command. */
export const approveCommand: ChatCommand = {
  name: "approve",
  role: "responder",
  args: "<approval or run id>",
  summary: "approve a publication parked for approval",
  run: (context) => decide(context, "approve"),
};

/** The `deny` command. */
export const denyCommand: ChatCommand = {
  name: "deny",
  role: "responder",
  args: "<approval or run id> [reason]",
  summary: "deny a publication parked for approval",
  run: (context) => decide(context, "deny"),
};

async function decide(
  { core, identity, access, args }: CommandContext,
  decision: "approve" | "deny",
): Promise<Card> {
  // Both take a reason; help leaves it out of approve's usage, this message never did.
  const id = requireFirstArg(args, `${decision} <approval or run id> [reason]`);
  const reason = args.slice(1).join(" ");
  const result = await decideFromChat(core, { ...identity, role: access.role }, {
    id,
    decision,
    ...(reason ? { reason } : {}),
  });
  return textCard(result.message, { private: !result.changed });
}
