/**
 * What a chat command is: one object carrying its name, the role it needs, its usage, one line
 * of help and its handler, so the dispatcher, the help text and the role checks all read the same
 * registry and nothing is kept in step by hand.
 *
 * @module
 */

import type { Card } from "../cards.ts";
import type { ChatCore, ChatIdentity } from "../core.ts";
import type { ChatAccess, ChatRole } from "../roles.ts";

/** Recent runs `why <numeric id>` and `status` scan (runs are indexed by event uuid only). */
export const RECENT_RUN_SCAN = 200;

/** What a command's handler gets: who asked, where, with which access, and the arguments. */
export interface CommandContext {
  core: ChatCore;
  identity: ChatIdentity;
  /** The caller's access; its role satisfies the command's role by the time `run` is called. */
  access: ChatAccess;
  /** The words after the command name. */
  args: readonly string[];
  /** The registry this call was dispatched from (what `help` lists). */
  commands: readonly ChatCommand[];
}

/** One chat command, the same on Slack (`/flowgate <name>`) and Telegram (`/<name>`). */
export interface ChatCommand {
  /** What the user types, lower case. */
  name: string;
  /** The least role that may run it; null: anyone may, and help does not list it. */
  role: ChatRole | null;
  /** Usage of the arguments, e.g. `<run id> [current|original] [dry]`; empty when none. */
  args: string;
  /** One line of help. */
  summary: string;
  /** The role one call needs when its arguments raise it above `role` (a live replay). */
  roleFor?(args: readonly string[]): ChatRole;
  /**
   * Answers the call. Throwing `CommandUsageError`, `NotFoundError` or `ConflictError` answers
   * the message privately; anything else is logged and answered as a failure.
   */
  run(context: CommandContext): Promise<Card>;
}

/** Wrong usage of a command; the message is shown to the user as is. */
export class CommandUsageError extends RangeError {
  /** Builds the error from the message shown to the user. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CommandUsageError";
  }
}

/** A command's usage line: `replay <run id> [current|original] [dry]`. */
export function commandUsage(command: Pick<ChatCommand, "name" | "args">): string {
  return command.args === "" ? command.name : `${command.name} ${command.args}`;
}

/**
 * The first argument, which most commands cannot do without.
 *
 * @throws {CommandUsageError} `Usage: <usage>` when there is none.
 */
export function requireFirstArg(args: readonly string[], usage: string): string {
  const value = args[0];
  if (value === undefined) throw new CommandUsageError(`Usage: ${usage}`);
  return value;
}
