/**
 * The chat command dispatcher, the same on Slack (`/flowgate <command>`) and Telegram
 * (`/<command>`): parsing, authorisation by role, the audit trail, and the answer as a card. The
 * commands themselves, their roles and their help live in the registry (`commands/mod.ts`).
 *
 * @module
 */

import { log } from "../engine/log.ts";
import { ConflictError, NotFoundError } from "../store/errors.ts";
import { type Card, textCard } from "./cards.ts";
import { auditChat, type ChatCore, type ChatIdentity } from "./core.ts";
import { hasRole, resolveAccess } from "./roles.ts";
import { type ChatCommand, COMMANDS, CommandUsageError } from "./commands/mod.ts";
import { helpCard } from "./commands/help.ts";

export {
  type ChatCommand,
  type CommandContext,
  COMMANDS,
  CommandUsageError,
  parseChatDuration,
} from "./commands/mod.ts";

/** A parsed command line. */
export interface ParsedCommand {
  name: string;
  args: string[];
}

/** Options of `runCommand`. */
export interface RunCommandOptions {
  /** The registry to dispatch from (default `COMMANDS`); tests pass their own. */
  commands?: readonly ChatCommand[];
}

/** Splits a command line: `disable block-red for 2h` → `disable`, `[block-red, for, 2h]`. */
export function parseCommand(text: string): ParsedCommand {
  const tokens = text.trim().split(/\s+/).filter((token) => token !== "");
  return { name: (tokens[0] ?? "help").toLowerCase(), args: tokens.slice(1) };
}

/**
 * Runs one command line for `identity` and returns the answer. Refusals, usage errors and
 * failures are answers too; every call is written to the audit log. An unknown command answers
 * with the caller's help.
 */
export async function runCommand(
  core: ChatCore,
  identity: ChatIdentity,
  text: string,
  options: RunCommandOptions = {},
): Promise<Card> {
  const commands = options.commands ?? COMMANDS;
  const { name, args } = parseCommand(text);
  const access = await resolveAccess(core.ctx.kv, identity);
  const command = commands.find((item) => item.name === name);
  const audit = (outcome: string, extra: Record<string, unknown> = {}) =>
    auditChat(core, identity, {
      action: "chat.command",
      ...(args[0] ? { target: args[0] } : {}),
      details: { command: name, args, outcome, ...extra },
    });
  if (!command) {
    await audit("unknown");
    const card = helpCard(commands, { identity, access });
    card.blocks.unshift({ kind: "text", text: `Unknown command "${name}".` });
    return card;
  }
  const needed = command.role === null ? null : command.roleFor?.(args) ?? command.role;
  if (needed !== null && !hasRole(access.role, needed)) {
    await audit("refused", { role: access.role });
    const why = access.role === null
      ? access.reason
      : `"${name}" needs the ${needed} role and you are ${access.role}`;
    return textCard(`Not allowed: ${why}.`, { private: true });
  }
  try {
    const card = await command.run({ core, identity, access, args, commands });
    await audit("ok");
    return card;
  } catch (error) {
    if (
      error instanceof CommandUsageError || error instanceof NotFoundError ||
      error instanceof ConflictError
    ) {
      await audit("error", { error: error.message });
      return textCard(error.message, { private: true });
    }
    log.error("Chat command failed", {
      platform: identity.platform,
      command: name,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    await audit("failed");
    return textCard(`The "${name}" command failed: see the server log.`, { private: true });
  }
}
