/**
 * `list`: every workflow with its trigger, order, state and last outcome.
 *
 * @module
 */

import { listRuns } from "../../store/runs.ts";
import { listWorkflows } from "../../store/workflows.ts";
import { type Card, textCard } from "../cards.ts";
import type { ChatCommand, CommandContext } from "./command.ts";

/** The `list` command. */
export const listCommand: ChatCommand = {
  name: "list",
  role: "viewer",
  args: "",
  summary: "workflows, trigger, order, last outcome",
  run: listWorkflowsCard,
};

async function listWorkflowsCard({ core }: CommandContext): Promise<Card> {
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
    const trigger = stored.workflow.trigger ?? "no trigger yet (enable <workflow> <trigger>)";
    return `${stored.name} · ${trigger} · order ${stored.workflow.order} · ` +
      `${state} · ${lastText}`;
  }));
  return textCard(lines.join("\n"), { title: `Workflows (${workflows.length})` });
}
