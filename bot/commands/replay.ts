/**
 * `replay <run id> [current|original] [dry]`: runs a run's input again and says what changed. A
 * dry replay needs the responder role, a live one admin.
 *
 * @module
 */

import { describeNodeDiff } from "../../engine/run_diff.ts";
import { replayWithDiff } from "../../services/replay.ts";
import type { Card } from "../cards.ts";
import { actorOf } from "../core.ts";
import type { ChatRole } from "../roles.ts";
import { loadRunView, runCard } from "../run_text.ts";
import {
  type ChatCommand,
  type CommandContext,
  commandUsage,
  CommandUsageError,
} from "./command.ts";

/** The `replay` command. */
export const replayCommand: ChatCommand = {
  name: "replay",
  role: "responder",
  args: "<run id> [current|original] [dry]",
  summary: "run a run's input again (live replays need admin)",
  roleFor: replayRole,
  run: replayCard,
};

/** A live replay acts on MISP again, so only a dry one is left to responders. */
function replayRole(args: readonly string[]): ChatRole {
  return args.includes("dry") ? "responder" : "admin";
}

async function replayCard({ core, identity, access, args }: CommandContext): Promise<Card> {
  const [runId, ...rest] = args;
  if (runId === undefined) {
    throw new CommandUsageError(`Usage: ${commandUsage(replayCommand)}`);
  }
  let mode: "original" | "current" = "original";
  let dry = false;
  for (const arg of rest) {
    if (arg === "current" || arg === "original") mode = arg;
    else if (arg === "dry") dry = true;
    else {
      throw new CommandUsageError(
        `Unknown replay option "${arg}": use current, original or dry`,
      );
    }
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
