/**
 * `help`: what the caller may do here, read from the registry, or why they may do nothing. It
 * needs no role, and answers unknown commands too.
 *
 * @module
 */

import { type Card, textCard } from "../cards.ts";
import type { ChatIdentity } from "../core.ts";
import { type ChatAccess, hasRole } from "../roles.ts";
import { type ChatCommand, type CommandContext, commandUsage } from "./command.ts";

/** The `help` command (also what an empty command line runs). */
export const helpCommand: ChatCommand = {
  name: "help",
  role: null,
  args: "",
  summary: "what you may do here",
  run: ({ identity, access, commands }: CommandContext) =>
    Promise.resolve(helpCard(commands, { identity, access })),
};

/** The commands of `commands` that help lists for `access`: those with a role it holds. */
export function allowedCommands(
  commands: readonly ChatCommand[],
  access: Pick<ChatAccess, "role">,
): ChatCommand[] {
  return commands.filter((command) => command.role !== null && hasRole(access.role, command.role));
}

/** The help card: one `usage: summary` line per allowed command, in registry order. */
export function helpCard(
  commands: readonly ChatCommand[],
  caller: { identity: ChatIdentity; access: ChatAccess },
): Card {
  const { identity, access } = caller;
  const allowed = allowedCommands(commands, access);
  if (allowed.length === 0) {
    return textCard(
      `You cannot use Flowgate here: ${access.reason}. Ask an admin to grant ` +
        `${identity.platform} user "${identity.userId}" a role and allow chat ` +
        `"${identity.chatId}".`,
      { title: "Flowgate", private: true },
    );
  }
  const lines = allowed.map((command) => `${commandUsage(command)}: ${command.summary}`);
  return textCard(lines.join("\n"), { title: `Flowgate (${access.role})`, private: true });
}
