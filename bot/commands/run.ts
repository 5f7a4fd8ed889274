/**
 * `run <run id>`: one run's trace and deciding node.
 *
 * @module
 */

import { NotFoundError } from "../../store/errors.ts";
import { getRun } from "../../store/runs.ts";
import type { Card } from "../cards.ts";
import { loadRunView, runCard } from "../run_text.ts";
import { type ChatCommand, type CommandContext, commandUsage, requireFirstArg } from "./command.ts";

/** The `run` command (named so it is not mistaken for the dispatcher, `runCommand`). */
export const showRunCommand: ChatCommand = {
  name: "run",
  role: "viewer",
  args: "<run id>",
  summary: "a run's trace and deciding node",
  run: showRunCard,
};

async function showRunCard({ core, access, args }: CommandContext): Promise<Card> {
  const runId = requireFirstArg(args, commandUsage(showRunCommand));
  const run = await getRun(core.ctx.kv, runId);
  if (!run) throw new NotFoundError(`No run "${runId}"`);
  return runCard(run, await loadRunView(core.ctx.kv, run.id, access.maxTlp));
}
