/**
 * Who may decide an approval: the approver list of the node (roles or identities), and the
 * four-eyes rule that keeps the publisher from approving their own event.
 *
 * @module
 */

import { CHAT_ROLES, type ChatRole } from "../store/chat_roles.ts";
import type { ApprovalRecord } from "../store/approvals.ts";

/** Who asks to decide, as the chat code or the API knows them. */
export interface ApproverIdentity {
  /** `slack:U1`, `telegram:42`, `api:admin`, `api:alice@example.org`. */
  actor: string;
  /** The role the actor holds (chat grant, or `admin` for the admin API); null when none. */
  role: ChatRole | null;
  /** Other names the actor goes by, e.g. their MISP email, for the self-approval rule. */
  identities?: string[];
}

/** A decision the rules refuse; `message` says why, for the chat answer or the API. */
export class ApprovalRefusedError extends Error {
  /** The approval the decision was about. */
  readonly approvalId: string;

  /** Builds the refusal; the message names the approval, the actor and the rule. */
  constructor(approvalId: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ApprovalRefusedError";
    this.approvalId = approvalId;
  }
}

/** Every name the actor goes by, lower-cased: the actor, its bare id and the extra identities. */
export function namesOf(identity: ApproverIdentity): Set<string> {
  const names = new Set<string>();
  const add = (value: string) => {
    const name = value.trim().toLowerCase();
    if (name !== "") names.add(name);
  };
  add(identity.actor);
  const colon = identity.actor.indexOf(":");
  if (colon > 0) add(identity.actor.slice(colon + 1));
  for (const extra of identity.identities ?? []) add(extra);
  return names;
}

/** True when `role` is `needed` or stronger. */
export function roleAtLeast(role: ChatRole | null, needed: ChatRole): boolean {
  return role !== null && CHAT_ROLES.indexOf(role) >= CHAT_ROLES.indexOf(needed);
}

/**
 * Why `identity` may not approve (`approve`) or deny (`deny`) `record`, or null when it may.
 * Denying one's own event is allowed: it can only keep it unpublished.
 */
export function refusalOf(
  record: ApprovalRecord,
  identity: ApproverIdentity,
  decision: "approve" | "deny",
): string | null {
  const names = namesOf(identity);
  const verb = decision === "approve" ? "approve" : "deny";
  const allowed = record.policy.approvers.some((entry) => {
    const value = entry.trim().toLowerCase();
    if (value.startsWith("role:")) {
      const needed = value.slice("role:".length) as ChatRole;
      return CHAT_ROLES.includes(needed) && roleAtLeast(identity.role, needed);
    }
    return names.has(value);
  });
  if (!allowed) {
    const list = record.policy.approvers.map((entry) =>
      entry.startsWith("role:") ? `role "${entry.slice("role:".length)}" or higher` : `"${entry}"`
    ).join(", ");
    const held = identity.role === null ? "no role" : `role "${identity.role}"`;
    return `Cannot ${verb} approval "${record.id}": "${identity.actor}" (${held}) is not an ` +
      `approver: allowed are ${list}`;
  }
  if (
    decision === "approve" && !record.policy.allow_self_approval &&
    record.publisher !== undefined && names.has(record.publisher.toLowerCase())
  ) {
    return `Cannot approve approval "${record.id}": "${identity.actor}" published event ` +
      `"${record.event.uuid}" and may not approve it (self-approval is off)`;
  }
  return null;
}
