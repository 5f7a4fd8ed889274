/**
 * `status`: which integrations are on, the queue's unfinished work and dead letters, and the last
 * live MISP call.
 *
 * @module
 */

import { type BoundedCount, countDeadLetters } from "../../store/dead_letters.ts";
import { countQueueDepth } from "../../store/queue_depth.ts";
import { getRun, listRuns } from "../../store/runs.ts";
import { chatTransports, integrationStatus } from "../../services/integration_status.ts";
import type { Card } from "../cards.ts";
import { type ChatCommand, type CommandContext, RECENT_RUN_SCAN } from "./command.ts";

/** The `status` command. */
export const statusCommand: ChatCommand = {
  name: "status",
  role: "viewer",
  args: "",
  summary: "integrations and queue depth",
  run: statusCard,
};

async function statusCard({ core }: CommandContext): Promise<Card> {
  const { ctx } = core;
  const integrations = integrationStatus(ctx);
  const [waiting, deadLetters, lastMisp] = await Promise.all([
    countQueueDepth(ctx.kv),
    countDeadLetters(ctx.kv),
    lastMispCall(ctx.kv),
  ]);
  const on = Object.entries(integrations).filter(([, value]) => value).map(([name]) => name);
  const off = Object.entries(integrations).filter(([, value]) => !value).map(([name]) => name);
  return {
    title: "Flowgate status",
    fields: [
      { label: "Integrations on", value: on.join(", ") || "none" },
      { label: "Integrations off", value: off.join(", ") || "none" },
      { label: "Chat transports", value: chatTransportText(ctx.config, core.connectionStates?.()) },
      {
        label: "Queue depth",
        value: `${waiting} job(s) waiting, ${countText(deadLetters)} dead letter(s)`,
      },
      { label: "Last MISP call", value: lastMisp },
    ],
    blocks: [],
    buttons: [],
  };
}

/** Names of the chat transports, as an admin configures them. */
const TRANSPORT_NAMES = {
  http: "Events API (POST /slack/events)",
  socket: "Socket Mode",
  webhook: "webhook (POST /telegram)",
  polling: "long polling",
} as const;

/** `slack over Socket Mode (connected), telegram over long polling (polling)`. */
function chatTransportText(
  config: Parameters<typeof chatTransports>[0],
  states: Partial<Record<string, string>> = {},
): string {
  const transports = Object.entries(chatTransports(config)).map(([platform, mode]) => {
    const state = states[platform];
    return `${platform} over ${TRANSPORT_NAMES[mode]}${state ? ` (${state})` : ""}`;
  });
  return transports.join(", ") || "none";
}

function countText({ count, more }: BoundedCount): string {
  return more ? `more than ${count}` : String(count);
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
