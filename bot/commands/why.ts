/**
 * `why <event uuid or id>`: which workflow and node decided on an event, and what they saw.
 *
 * @module
 */

import { getRun, listRuns } from "../../store/runs.ts";
import type { RunRecord } from "../../store/types.ts";
import { type Card, textCard } from "../cards.ts";
import { decidingLine, loadRunView, traceLine } from "../run_text.ts";
import {
  type ChatCommand,
  type CommandContext,
  commandUsage,
  RECENT_RUN_SCAN,
  requireFirstArg,
} from "./command.ts";

/** Runs `why` shows per event. */
const WHY_RUNS = 5;

/** The `why` command. */
export const whyCommand: ChatCommand = {
  name: "why",
  role: "viewer",
  args: "<event uuid or id>",
  summary: "which workflow and node decided on an event, and what they saw",
  run: explainEventCard,
};

async function explainEventCard({ core, access, args }: CommandContext): Promise<Card> {
  const event = requireFirstArg(args, commandUsage(whyCommand));
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
