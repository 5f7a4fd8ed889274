/**
 * Chat side of the publish gate: approve and deny from a command or a card button through the
 * server's approval service, and every approval change (from chat, the API or a timeout) shown
 * on the run's card in every chat, whose buttons go once the approval is decided.
 *
 * @module
 */

import { IntegrationMissingError } from "../engine/module_errors.ts";
import {
  type ApprovalChange,
  ApprovalRefusedError,
  type ApprovalService,
  approvalServiceOf,
} from "../services/approvals.ts";
import type { ApprovalRecord } from "../store/approvals.ts";
import { addChatCardEvent, getChatCard } from "../store/chat_cards.ts";
import { NotFoundError } from "../store/errors.ts";
import { refreshCard } from "./announce.ts";
import { actorOf, type ChatCore, type ChatIdentity } from "./core.ts";
import type { ChatRole } from "./roles.ts";

/** What approve and deny answer when the server runs without an approval service. */
export const APPROVALS_UNAVAILABLE =
  "Approvals are not available on this Flowgate server: nothing was approved or denied";

/** A decision asked for in chat. */
export interface ChatDecision {
  /** An approval id, or the id of the run the approval parked (what cards carry). */
  id: string;
  decision: "approve" | "deny";
  reason?: string;
}

/** The approval service, or null when the server has none. */
export function chatApprovals(core: ChatCore): ApprovalService | null {
  try {
    return approvalServiceOf(core.ctx);
  } catch (error) {
    if (error instanceof IntegrationMissingError) return null;
    throw error;
  }
}

/** Starts showing approval changes on cards, once per approval service. */
export function watchApprovals(core: ChatCore): void {
  const service = chatApprovals(core);
  if (!service || core.watchedApprovals.has(service)) return;
  core.watchedApprovals.add(service);
  service.onApprovalChanged((change) => showApprovalChange(core, service, change));
}

/** The approval of an approval id or of a parked run's id, or null. */
export async function findApproval(
  service: ApprovalService,
  id: string,
): Promise<ApprovalRecord | null> {
  return await service.getApproval(id) ?? await service.approvalOfRun(id);
}

/**
 * Records an approve or deny from chat. Refusals (not an approver, self-approval) and repeats
 * are answers, not errors.
 *
 * @throws {NotFoundError} when neither an approval nor a parked run has that id
 */
export async function decideFromChat(
  core: ChatCore,
  identity: ChatIdentity & { role: ChatRole | null },
  decision: ChatDecision,
): Promise<{ message: string; changed: boolean }> {
  const service = chatApprovals(core);
  if (!service) return { message: APPROVALS_UNAVAILABLE, changed: false };
  watchApprovals(core);
  const approval = await findApproval(service, decision.id);
  if (!approval) {
    throw new NotFoundError(
      `No approval "${decision.id}": give an approval id or the id of a run parked for approval`,
    );
  }
  try {
    const result = await service.decide(approval.id, {
      actor: actorOf(identity),
      role: identity.role,
      decision: decision.decision,
      ...(decision.reason ? { reason: decision.reason } : {}),
    });
    return { message: result.message, changed: result.changed };
  } catch (error) {
    if (error instanceof ApprovalRefusedError) return { message: error.message, changed: false };
    throw error;
  }
}

/** One card line per change worth showing; none for the rest (creation, refusals, reminders). */
function cardLine(change: ApprovalChange): { summary: string; final: boolean } | null {
  const { approval } = change;
  switch (change.kind) {
    case "vote":
      return {
        summary: `Approval vote ${approval.votes.length} of ${approval.policy.quorum}`,
        final: false,
      };
    case "approved":
      return { summary: "Approved", final: true };
    case "denied":
      return {
        summary: `Denied${approval.decision?.reason ? ` (${approval.decision.reason})` : ""}`,
        final: true,
      };
    case "superseded":
      return { summary: "Superseded by a newer approval", final: true };
    case "published":
      return { summary: "Published through MISP", final: false };
    case "publish-failed":
      return {
        summary: `Publication through MISP failed: see GET /api/approvals/${approval.id}`,
        final: false,
      };
    case "alert":
      return {
        summary:
          `Alert: MISP's state contradicts the decision: see GET /api/approvals/${approval.id}`,
        final: false,
      };
    default:
      return null;
  }
}

async function showApprovalChange(
  core: ChatCore,
  service: ApprovalService,
  change: ApprovalChange,
): Promise<void> {
  const line = cardLine(change);
  if (!line) return;
  const runId = change.approval.run_id ?? (await service.getApproval(change.approval.id))?.run_id;
  if (!runId || !(await getChatCard(core.ctx.kv, runId))) return;
  const added = await addChatCardEvent(core.ctx.kv, runId, {
    action: change.kind,
    by: change.actor ?? "flowgate",
    at: change.approval.updated_at,
    ...line,
  });
  if (added) await refreshCard(core, runId);
}
