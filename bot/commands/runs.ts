/**
 * `runs [workflow] [n]`: the latest runs, of one workflow or all.
 *
 * @module
 */

import { NotFoundError } from "../../store/errors.ts";
import { listRuns } from "../../store/runs.ts";
import { getWorkflow } from "../../store/workflows.ts";
import { type Card, textCard } from "../cards.ts";
import { eventLine, loadRunView } from "../run_text.ts";
import type { ChatCommand, CommandContext } from "./command.ts";

/** Most runs `runs` lists. */
const MAX_RUNS_LISTED = 20;
/** Default count of `runs`. */
const DEFAULT_RUNS_LISTED = 5;

/** The `runs` command. */
export const runsCommand: ChatCommand = {
  name: "runs",
  role: "viewer",
  args: "[workflow] [n]",
  summary: "latest runs",
  run: listRunsCard,
};

async function listRunsCard({ core, access, args }: CommandContext): Promise<Card> {
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
