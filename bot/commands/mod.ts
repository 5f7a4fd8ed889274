/**
 * The chat command registry: every command, in the order help lists them. The dispatcher, the
 * help text and the role checks read this list; to add a command, write its file and add it here.
 *
 * @module
 */

import { approveCommand, denyCommand } from "./approve_deny.ts";
import type { ChatCommand } from "./command.ts";
import { disableCommand, enableCommand } from "./enable_disable.ts";
import { helpCommand } from "./help.ts";
import { listCommand } from "./list.ts";
import { replayCommand } from "./replay.ts";
import { showRunCommand } from "./run.ts";
import { runsCommand } from "./runs.ts";
import { statusCommand } from "./status.ts";
import { whyCommand } from "./why.ts";

export { type ChatCommand, type CommandContext, CommandUsageError } from "./command.ts";
export { parseChatDuration } from "./enable_disable.ts";

/** Every chat command, in help order. */
export const COMMANDS: readonly ChatCommand[] = [
  listCommand,
  runsCommand,
  showRunCommand,
  whyCommand,
  statusCommand,
  replayCommand,
  approveCommand,
  denyCommand,
  enableCommand,
  disableCommand,
  helpCommand,
];
