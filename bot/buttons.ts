/**
 * Card buttons: Trace, Replay, Approve and Deny pressed in Slack or Telegram, with the same roles
 * and audit trail as the commands; a press that changes the card edits every copy of it.
 *
 * @module
 */

import { log } from "../engine/log.ts";
import { addChatCardEvent } from "../store/chat_cards.ts";
import { ConflictError, NotFoundError } from "../store/errors.ts";
import { getRun } from "../store/runs.ts";
import { refreshCard } from "./announce.ts";
import { decideFromChat } from "./approvals.ts";
import { type Card, CARD_ACTIONS, type CardAction } from "./cards.ts";
import { actorOf, auditChat, type ChatCore, type ChatIdentity } from "./core.ts";
import { replayWithDiff } from "../services/replay.ts";
import { type ChatRole, hasRole, resolveAccess } from "./roles.ts";
import { loadRunView, runCard } from "./run_text.ts";
import type { TlpLevel } from "../services/tlp.ts";

/** What a button press answers: a short notice for the presser and, maybe, a message to post. */
export interface ButtonOutcome {
  notice: string;
  reply?: Card;
}

const BUTTON_ROLES: Record<CardAction, ChatRole> = {
  trace: "viewer",
  replay: "responder",
  approve: "responder",
  deny: "responder",
};

/** A button press: the action and the run whose card carries the button. */
export interface ButtonPress {
  action: string;
  runId: string;
}

/** Handles one button press on the card of run `press.runId`. */
export async function pressButton(
  core: ChatCore,
  identity: ChatIdentity,
  press: ButtonPress,
): Promise<ButtonOutcome> {
  const { action, runId } = press;
  const audit = (outcome: string, extra: Record<string, unknown> = {}) =>
    auditChat(core, identity, {
      action: "chat.button",
      target: runId,
      details: { button: action, outcome, ...extra },
    });
  if (!(CARD_ACTIONS as readonly string[]).includes(action)) {
    await audit("unknown");
    return { notice: `Unknown button "${action}"` };
  }
  const access = await resolveAccess(core.ctx.kv, identity);
  const needed = BUTTON_ROLES[action as CardAction];
  if (!hasRole(access.role, needed)) {
    await audit("refused", { role: access.role });
    return {
      notice: access.role === null
        ? `Not allowed: ${access.reason}`
        : `Not allowed: "${action}" needs the ${needed} role and you are ${access.role}`,
    };
  }
  try {
    const outcome = await perform(core, identity, {
      action: action as CardAction,
      runId,
      maxTlp: access.maxTlp,
      role: access.role,
    });
    await audit("ok");
    return outcome;
  } catch (error) {
    if (error instanceof NotFoundError || error instanceof ConflictError) {
      await audit("error", { error: error.message });
      return { notice: error.message };
    }
    log.error("Chat button failed", {
      platform: identity.platform,
      button: action,
      run_id: runId,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    await audit("failed");
    return { notice: `The "${action}" button failed: see the server log` };
  }
}

async function perform(
  core: ChatCore,
  identity: ChatIdentity,
  press: { action: CardAction; runId: string; maxTlp: TlpLevel; role: ChatRole | null },
): Promise<ButtonOutcome> {
  const { action, runId, maxTlp, role } = press;
  const { kv } = core.ctx;
  switch (action) {
    case "trace": {
      const run = await getRun(kv, runId);
      if (!run) throw new NotFoundError(`No run "${runId}"`);
      return { notice: "Trace posted", reply: runCard(run, await loadRunView(kv, runId, maxTlp)) };
    }
    case "replay": {
      const { run: replay, diff } = await replayWithDiff(core.ctx, runId, {
        mode: "original",
        dry: true,
        actor: { kind: "chat", id: actorOf(identity) },
      });
      const summary = `Dry replay: run ${replay.id} ${replay.outcome}` +
        (diff.changed ? ` (${diff.nodes.length} node(s) differ)` : " (same as the original)");
      await addChatCardEvent(kv, runId, {
        action: "replay",
        by: actorOf(identity),
        at: new Date(core.ctx.now()).toISOString(),
        summary,
        final: false,
      });
      await refreshCard(core, runId);
      return { notice: summary };
    }
    case "approve":
    case "deny": {
      const result = await decideFromChat(core, { ...identity, role }, {
        id: runId,
        decision: action,
      });
      return { notice: result.message };
    }
  }
}
