/**
 * `enable <workflow> [trigger]` and `disable <workflow> [for <duration>]`: switch a workflow on or
 * off, off for a while when a duration is given; a workflow imported without a trigger (a MISP
 * blueprint fragment) is enabled with the trigger given.
 *
 * @module
 */

import { AttachTriggerError } from "../../engine/attach_trigger.ts";
import { WorkflowValidationError } from "../../engine/validate.ts";
import { enableWorkflow as enableStoredWorkflow } from "../../services/enable_workflow.ts";
import { NotFoundError } from "../../store/errors.ts";
import { getWorkflow, setWorkflowEnabled } from "../../store/workflows.ts";
import { type Card, textCard } from "../cards.ts";
import { actorOf } from "../core.ts";
import {
  type ChatCommand,
  type CommandContext,
  commandUsage,
  CommandUsageError,
  requireFirstArg,
} from "./command.ts";

/** Longest disable `for` duration: a year, beyond which "disable" is what is meant. */
const MAX_DISABLE_MS = 31_536_000_000;
const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The `enable` command. */
export const enableCommand: ChatCommand = {
  name: "enable",
  role: "admin",
  args: "<workflow> [trigger]",
  summary: "enable a workflow; one without a trigger needs the trigger to run on",
  run: enableWorkflow,
};

/** The `disable` command. */
export const disableCommand: ChatCommand = {
  name: "disable",
  role: "admin",
  args: "<workflow> [for <duration>]",
  summary: "disable a workflow, for a while if a duration (90s, 30m, 2h, 1d) is given",
  run: disableWorkflow,
};

/**
 * Parses `90s`, `30m`, `2h`, `1d` or sums like `1h30m` into milliseconds.
 *
 * @throws {CommandUsageError} when the text is not such a duration, or not from 1s to 365d.
 */
export function parseChatDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+)([smhd])/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join("") !== text) {
    throw new CommandUsageError(
      `Invalid duration "${text}": use a number and a unit, e.g. 90s, 30m, 2h, 1d`,
    );
  }
  const ms = parts.reduce((sum, part) => sum + Number(part[1]) * DURATION_UNITS[part[2]!]!, 0);
  if (ms <= 0 || ms > MAX_DISABLE_MS) {
    throw new CommandUsageError(`Invalid duration "${text}": from 1s to 365d`);
  }
  return ms;
}

async function enableWorkflow({ core, identity, args }: CommandContext): Promise<Card> {
  const usage = commandUsage(enableCommand);
  const name = requireFirstArg(args, usage);
  if (args.length > 2) throw new CommandUsageError(`Usage: ${usage}`);
  const stored = await getWorkflow(core.ctx.kv, name);
  if (!stored) throw new NotFoundError(`No workflow "${name}"`);
  const trigger = args[1];
  if (stored.workflow.trigger === null && trigger === undefined) {
    throw new CommandUsageError(
      `Workflow "${stored.name}" has no trigger yet: choose a trigger to enable it with ` +
        `"enable ${stored.name} <trigger>", e.g. "enable ${stored.name} event-publish"`,
    );
  }
  const actor = actorOf(identity);
  let next;
  try {
    next = await enableStoredWorkflow(core.ctx.kv, stored, {
      actor,
      now: new Date(core.ctx.now()),
      ...(trigger !== undefined ? { trigger } : {}),
    });
  } catch (error) {
    if (error instanceof AttachTriggerError || error instanceof WorkflowValidationError) {
      throw new CommandUsageError(error.message, { cause: error });
    }
    throw error;
  }
  const on = stored.workflow.trigger === null ? ` on trigger ${next.workflow.trigger}` : "";
  return textCard(`Workflow "${stored.name}" enabled${on} by ${actor}.`);
}

async function disableWorkflow({ core, identity, args }: CommandContext): Promise<Card> {
  const usage = commandUsage(disableCommand);
  const name = requireFirstArg(args, usage);
  const stored = await getWorkflow(core.ctx.kv, name);
  if (!stored) throw new NotFoundError(`No workflow "${name}"`);
  const actor = actorOf(identity);
  const now = new Date(core.ctx.now());
  const rest = args.slice(1);
  if (rest.length === 0) {
    await setWorkflowEnabled(core.ctx.kv, stored.id, false, { actor, now });
    return textCard(`Workflow "${stored.name}" disabled by ${actor}.`);
  }
  if (rest[0] !== "for" || rest.length !== 2) throw new CommandUsageError(`Usage: ${usage}`);
  const until = new Date(now.getTime() + parseChatDuration(rest[1]!));
  await setWorkflowEnabled(core.ctx.kv, stored.id, false, { actor, until, now });
  return textCard(
    `Workflow "${stored.name}" disabled by ${actor} until ${until.toISOString()}.`,
  );
}
