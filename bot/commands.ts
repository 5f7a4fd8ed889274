/**
 * The chat command set, the same on Slack (`/flowgate <command>`) and Telegram (`/<command>`):
 * parsing, authorisation by role, the audit trail, and the answer as a card.
 *
 * @module
 */

import { log } from "../engine/log.ts";
import { KEY_DEAD_LETTERS } from "../store/keys.ts";
import { KEY_QUEUE_JOBS } from "../store/queue_jobs.ts";
import { getRun, listRuns } from "../store/runs.ts";
import type { RunRecord } from "../store/types.ts";
import { getWorkflow, listWorkflows, setWorkflowEnabled } from "../store/workflows.ts";
import { ConflictError, NotFoundError } from "../store/errors.ts";
import { replayWithDiff } from "../services/replay.ts";
import { integrationStatus } from "../server/routes/health.ts";
import { describeNodeDiff } from "../engine/run_diff.ts";
import { decideFromChat } from "./approvals.ts";
import { type Card, textCard } from "./cards.ts";
import { actorOf, auditChat, type ChatCore, type ChatIdentity } from "./core.ts";
import { type ChatAccess, type ChatRole, hasRole, resolveAccess } from "./roles.ts";
import { decidingLine, eventLine, loadRunView, runCard, traceLine } from "./run_text.ts";

/** One command: its name, usage, the role it needs and one line of help. */
export interface CommandSpec {
  name: string;
  usage: string;
  role: ChatRole;
  summary: string;
}

/** A parsed command line. */
export interface ParsedCommand {
  name: string;
  args: string[];
}

/** The command set, in help order. `help` needs no role: it says what the caller may do. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "list",
    usage: "list",
    role: "viewer",
    summary: "workflows, trigger, order, last outcome",
  },
  { name: "runs", usage: "runs [workflow] [n]", role: "viewer", summary: "latest runs" },
  {
    name: "run",
    usage: "run <run id>",
    role: "viewer",
    summary: "a run's trace and deciding node",
  },
  {
    name: "why",
    usage: "why <event uuid or id>",
    role: "viewer",
    summary: "which workflow and node decided on an event, and what they saw",
  },
  { name: "status", usage: "status", role: "viewer", summary: "integrations and queue depth" },
  {
    name: "replay",
    usage: "replay <run id> [current|original] [dry]",
    role: "responder",
    summary: "run a run's input again (live replays need admin)",
  },
  {
    name: "approve",
    usage: "approve <approval or run id>",
    role: "responder",
    summary: "approve a publication parked for approval",
  },
  {
    name: "deny",
    usage: "deny <approval or run id> [reason]",
    role: "responder",
    summary: "deny a publication parked for approval",
  },
  { name: "enable", usage: "enable <workflow>", role: "admin", summary: "enable a workflow" },
  {
    name: "disable",
    usage: "disable <workflow> [for <duration>]",
    role: "admin",
    summary: "disable a workflow, for a while if a duration (90s, 30m, 2h, 1d) is given",
  },
];

/** Most runs `runs` lists. */
const MAX_RUNS_LISTED = 20;
/** Default count of `runs`. */
const DEFAULT_RUNS_LISTED = 5;
/** Runs `why` shows per event. */
const WHY_RUNS = 5;
/** Recent runs `why <numeric id>` and `status` scan (runs are indexed by event uuid only). */
const RECENT_RUN_SCAN = 200;
/** Entries counted at most for the queue and dead-letter depth. */
const MAX_COUNTED = 10_000;
/** Longest disable `for` duration: a year, beyond which "disable" is what is meant. */
const MAX_DISABLE_MS = 31_536_000_000;
const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Wrong usage of a command; the message is shown to the user as is. */
export class CommandUsageError extends RangeError {
  /** Builds the error from the message shown to the user. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CommandUsageError";
  }
}

/** Splits a command line: `disable block-red for 2h` → `disable`, `[block-red, for, 2h]`. */
export function parseCommand(text: string): ParsedCommand {
  const tokens = text.trim().split(/\s+/).filter((token) => token !== "");
  return { name: (tokens[0] ?? "help").toLowerCase(), args: tokens.slice(1) };
}

/** Parses `90s`, `30m`, `2h`, `1d` or sums like `1h30m` into milliseconds. */
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

/**
 * Runs one command line for `identity` and returns the answer. Refusals, usage errors and
 * failures are answers too; every call is written to the audit log.
 */
export async function runCommand(
  core: ChatCore,
  identity: ChatIdentity,
  text: string,
): Promise<Card> {
  const command = parseCommand(text);
  const access = await resolveAccess(core.ctx.kv, identity);
  const spec = COMMANDS.find((item) => item.name === command.name);
  const audit = (outcome: string, extra: Record<string, unknown> = {}) =>
    auditChat(core, identity, {
      action: "chat.command",
      ...(command.args[0] ? { target: command.args[0] } : {}),
      details: { command: command.name, args: command.args, outcome, ...extra },
    });
  if (command.name === "help" || !spec) {
    await audit(spec || command.name === "help" ? "ok" : "unknown");
    const card = helpCard(identity, access);
    if (command.name !== "help") {
      card.blocks.unshift({ kind: "text", text: `Unknown command "${command.name}".` });
    }
    return card;
  }
  const needed = command.name === "replay" && !command.args.includes("dry") ? "admin" : spec.role;
  if (!hasRole(access.role, needed)) {
    await audit("refused", { role: access.role });
    const why = access.role === null
      ? access.reason
      : `"${command.name}" needs the ${needed} role and you are ${access.role}`;
    return textCard(`Not allowed: ${why}.`, { private: true });
  }
  try {
    const card = await execute(core, identity, access, command);
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
      command: command.name,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    await audit("failed");
    return textCard(`The "${command.name}" command failed: see the server log.`, {
      private: true,
    });
  }
}

function helpCard(identity: ChatIdentity, access: ChatAccess): Card {
  const allowed = COMMANDS.filter((spec) => hasRole(access.role, spec.role));
  if (allowed.length === 0) {
    return textCard(
      `You cannot use Flowgate here: ${access.reason}. Ask an admin to grant ` +
        `${identity.platform} user "${identity.userId}" a role and allow chat ` +
        `"${identity.chatId}".`,
      { title: "Flowgate", private: true },
    );
  }
  const lines = allowed.map((spec) => `${spec.usage}: ${spec.summary}`);
  return textCard(lines.join("\n"), { title: `Flowgate (${access.role})`, private: true });
}

function execute(
  core: ChatCore,
  identity: ChatIdentity,
  access: ChatAccess,
  command: ParsedCommand,
): Promise<Card> {
  switch (command.name) {
    case "list":
      return listCommand(core);
    case "runs":
      return runsCommand(core, access, command.args);
    case "run":
      return runCommandCard(core, access, requireArg(command, 0, "run <run id>"));
    case "why":
      return whyCommand(core, access, requireArg(command, 0, "why <event uuid or id>"));
    case "status":
      return statusCommand(core);
    case "replay":
      return replayCommand(core, identity, access, command.args);
    case "approve":
    case "deny":
      return decideCommand(core, { ...identity, role: access.role }, command);
    case "enable":
    case "disable":
      return toggleCommand(core, identity, command);
    default:
      throw new CommandUsageError(`Unknown command "${command.name}"`);
  }
}

async function decideCommand(
  core: ChatCore,
  identity: ChatIdentity & { role: ChatRole | null },
  command: ParsedCommand,
): Promise<Card> {
  const id = requireArg(command, 0, `${command.name} <approval or run id> [reason]`);
  const reason = command.args.slice(1).join(" ");
  const result = await decideFromChat(core, identity, {
    id,
    decision: command.name === "approve" ? "approve" : "deny",
    ...(reason ? { reason } : {}),
  });
  return textCard(result.message, { private: !result.changed });
}

function requireArg(command: ParsedCommand, index: number, usage: string): string {
  const value = command.args[index];
  if (value === undefined) throw new CommandUsageError(`Usage: ${usage}`);
  return value;
}

async function listCommand(core: ChatCore): Promise<Card> {
  const workflows = await listWorkflows(core.ctx.kv);
  if (workflows.length === 0) return textCard("No workflows yet.", { title: "Workflows" });
  const lines = await Promise.all(workflows.map(async (stored) => {
    const [last] = (await listRuns(core.ctx.kv, { workflowId: stored.id, limit: 1 })).items;
    const state = stored.workflow.enabled
      ? "enabled"
      : stored.disabled_until
      ? `disabled until ${stored.disabled_until}`
      : "disabled";
    const lastText = last ? `last ${last.outcome} at ${last.started_at}` : "never ran";
    return `${stored.name} · ${stored.workflow.trigger} · order ${stored.workflow.order} · ` +
      `${state} · ${lastText}`;
  }));
  return textCard(lines.join("\n"), { title: `Workflows (${workflows.length})` });
}

async function runsCommand(core: ChatCore, access: ChatAccess, args: string[]): Promise<Card> {
  let workflowArg: string | undefined;
  let count = DEFAULT_RUNS_LISTED;
  for (const arg of args) {
    if (/^\d+$/.test(arg)) count = Math.min(Math.max(1, Number(arg)), MAX_RUNS_LISTED);
    else workflowArg = arg;
  }
  let workflowId: string | undefined;
  if (workflowArg !== undefined) {
    const stored = await getWorkflow(core.ctx.kv, workflowArg);
    if (!stored) throw new NotFoundError(`No workflow "${workflowArg}"`);
    workflowId = stored.id;
  }
  const page = await listRuns(core.ctx.kv, {
    limit: count,
    ...(workflowId ? { workflowId } : {}),
  });
  if (page.items.length === 0) return textCard("No runs yet.", { title: "Runs" });
  const lines = await Promise.all(page.items.map(async (run) => {
    const view = await loadRunView(core.ctx.kv, run.id, access.maxTlp);
    return `${run.id} · ${run.workflow_name} · ${run.outcome}${run.dry_run ? " (dry)" : ""} · ` +
      `${run.started_at} · ${eventLine(run, view)}`;
  }));
  return textCard(lines.join("\n"), { title: `Runs (${page.items.length})` });
}

async function runCommandCard(core: ChatCore, access: ChatAccess, runId: string): Promise<Card> {
  const run = await getRun(core.ctx.kv, runId);
  if (!run) throw new NotFoundError(`No run "${runId}"`);
  return runCard(run, await loadRunView(core.ctx.kv, run.id, access.maxTlp));
}

async function whyCommand(core: ChatCore, access: ChatAccess, event: string): Promise<Card> {
  let runs: RunRecord[];
  if (/^\d+$/.test(event)) {
    const recent = await listRuns(core.ctx.kv, { limit: RECENT_RUN_SCAN });
    runs = recent.items.filter((run) => run.event?.id === event).slice(0, WHY_RUNS);
  } else {
    runs = (await listRuns(core.ctx.kv, { eventUuid: event, limit: WHY_RUNS })).items;
  }
  if (runs.length === 0) {
    return textCard(`No recent run looked at event "${event}".`, { title: "Why" });
  }
  const lines: string[] = [];
  for (const summary of runs) {
    const run = await getRun(core.ctx.kv, summary.id);
    if (!run) continue;
    const view = await loadRunView(core.ctx.kv, run.id, access.maxTlp);
    const deciding = decidingLine(run);
    lines.push(
      `${run.workflow_name}: ${run.outcome} (run ${run.id}, ${run.started_at})` +
        (deciding ? `, decided by ${deciding}` : ", no node blocked"),
    );
    for (const entry of run.trace) {
      if (entry.kind === "logic" || entry.node_id === run.deciding_node_id) {
        lines.push(`  ${traceLine(entry, view)}`);
      }
    }
  }
  return {
    title: `Why: event ${event}`,
    fields: [],
    blocks: [{ kind: "code", text: lines.join("\n") }],
    buttons: [],
  };
}

async function statusCommand(core: ChatCore): Promise<Card> {
  const { ctx } = core;
  const integrations = integrationStatus(ctx);
  const queued = await countEntries(ctx.kv, [KEY_QUEUE_JOBS]);
  const dead = await countEntries(ctx.kv, [KEY_DEAD_LETTERS]);
  const lastMisp = await lastMispCall(ctx.kv);
  const on = Object.entries(integrations).filter(([, value]) => value).map(([name]) => name);
  const off = Object.entries(integrations).filter(([, value]) => !value).map(([name]) => name);
  return {
    title: "Flowgate status",
    fields: [
      { label: "Integrations on", value: on.join(", ") || "none" },
      { label: "Integrations off", value: off.join(", ") || "none" },
      { label: "Queue depth", value: `${queued} job(s) waiting, ${dead} dead letter(s)` },
      { label: "Last MISP call", value: lastMisp },
    ],
    blocks: [],
    buttons: [],
  };
}

async function countEntries(kv: Deno.Kv, prefix: Deno.KvKey): Promise<string> {
  let count = 0;
  for await (const _entry of kv.list({ prefix }, { limit: MAX_COUNTED + 1 })) count++;
  return count > MAX_COUNTED ? `more than ${MAX_COUNTED}` : String(count);
}

/** The newest live MISP API action among recent runs: when, in which run and workflow. */
async function lastMispCall(kv: Deno.Kv): Promise<string> {
  const recent = await listRuns(kv, { limit: RECENT_RUN_SCAN });
  for (const summary of recent.items) {
    if (summary.dry_run) continue;
    const run = await getRun(kv, summary.id);
    const call = run?.trace.find((entry) =>
      entry.actions?.some((action) => action.kind === "misp" && !action.dry)
    );
    if (run && call) {
      return `${run.finished_at} by node ${call.node_id} of ${run.workflow_name} (run ${run.id})`;
    }
  }
  return `none in the last ${RECENT_RUN_SCAN} runs`;
}

async function replayCommand(
  core: ChatCore,
  identity: ChatIdentity,
  access: ChatAccess,
  args: string[],
): Promise<Card> {
  const [runId, ...rest] = args;
  if (runId === undefined) {
    throw new CommandUsageError("Usage: replay <run id> [current|original] [dry]");
  }
  let mode: "original" | "current" = "original";
  let dry = false;
  for (const arg of rest) {
    if (arg === "current" || arg === "original") mode = arg;
    else if (arg === "dry") dry = true;
    else {throw new CommandUsageError(
        `Unknown replay option "${arg}": use current, original or dry`,
      );}
  }
  const { run, diff, replays } = await replayWithDiff(core.ctx, runId, {
    mode,
    dry,
    actor: { kind: "chat", id: actorOf(identity) },
  });
  const card = runCard(run, await loadRunView(core.ctx.kv, run.id, access.maxTlp));
  card.title = `${dry ? "Dry replay" : "Replay"} of ${runId} (${mode}): ${run.outcome}`;
  card.blocks.unshift({
    kind: "text",
    text: diff.changed
      ? `Changes from the original (replay ${replays}):\n${
        diff.nodes.map(describeNodeDiff).join("\n")
      }`
      : `Same path and outcome as the original (replay ${replays}).`,
  });
  return card;
}

async function toggleCommand(
  core: ChatCore,
  identity: ChatIdentity,
  command: ParsedCommand,
): Promise<Card> {
  const name = requireArg(
    command,
    0,
    command.name === "enable" ? "enable <workflow>" : "disable <workflow> [for <duration>]",
  );
  const stored = await getWorkflow(core.ctx.kv, name);
  if (!stored) throw new NotFoundError(`No workflow "${name}"`);
  const actor = actorOf(identity);
  const now = new Date(core.ctx.now());
  if (command.name === "enable") {
    await setWorkflowEnabled(core.ctx.kv, stored.id, true, { actor, now });
    return textCard(`Workflow "${stored.name}" enabled by ${actor}.`);
  }
  const rest = command.args.slice(1);
  if (rest.length === 0) {
    await setWorkflowEnabled(core.ctx.kv, stored.id, false, { actor, now });
    return textCard(`Workflow "${stored.name}" disabled by ${actor}.`);
  }
  if (rest[0] !== "for" || rest.length !== 2) {
    throw new CommandUsageError("Usage: disable <workflow> [for <duration>]");
  }
  const until = new Date(now.getTime() + parseChatDuration(rest[1]!));
  await setWorkflowEnabled(core.ctx.kv, stored.id, false, { actor, until, now });
  return textCard(
    `Workflow "${stored.name}" disabled by ${actor} until ${until.toISOString()}.`,
  );
}
