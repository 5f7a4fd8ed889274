/**
 * The publish gate as the `require-approval` module sees it: consume a grant left by an approval,
 * or open an approval for an event. The server implements it (`server/approvals.ts`) over KV.
 *
 * @module
 */

import type { JsonObject } from "./model.ts";

/** What happens when nobody decides before the timeout: fail closed (deny) or open (allow). */
export type TimeoutOutcome = "deny" | "allow";

/** Who may decide an approval, how many must agree, and the clock of reminders and timeout. */
export interface ApprovalPolicy {
  /** `role:<viewer|responder|admin>` (that role or higher) or identities (`slack:U1`, an email). */
  approvers: string[];
  /** Distinct approvals needed (N of M). */
  quorum: number;
  /** The publisher may approve their own event. */
  "allow_self_approval": boolean;
  /** Seconds until the timeout outcome applies. */
  "timeout_seconds": number;
  /** Seconds until a reminder goes out (0: none). */
  "reminder_seconds": number;
  /** Seconds until the approval escalates (0: never). */
  "escalation_seconds": number;
  /** Who is told on escalation (chat ids, identities, `role:admin`). */
  "escalate_to": string[];
  "on_timeout": TimeoutOutcome;
}

/** The event an approval is about, as cards and the API show it. */
export interface ApprovalEvent {
  uuid: string;
  /** MISP's numeric id, used to publish through the API ("" when the data has none). */
  id: string;
  info: string;
  /** Creator org name. */
  orgc?: string;
  /** `tlp:` tags on the event, lower-cased. */
  tlp: string[];
  "attribute_count": number;
}

/** What the module asks the gate for when no grant lets the event through. */
export interface ApprovalRequest {
  /** Workflow name (unique). */
  workflow: string;
  "node_id": string;
  event: ApprovalEvent;
  /** `eventFingerprint` of the event as it was blocked. */
  fingerprint: string;
  /** The MISP user behind the event (`Event.event_creator_email`), for the self-approval rule. */
  publisher?: string;
  reason: string;
  policy: ApprovalPolicy;
  /**
   * The event data as blocked, for the summary of what the publication changes
   * (`engine/publication_changes.ts`); read when the approval opens, never stored whole.
   */
  data?: JsonObject;
}

/** Identifies an event's content for grant lookups. */
export interface GrantQuery {
  "event_uuid": string;
  fingerprint: string;
}

/** The publish gate: grants are single-use and bound to the event's content fingerprint. */
export interface ApprovalGate {
  /** Consumes a valid grant for the event (atomic, once); resolves with its approval id or null. */
  consumeGrant(query: GrantQuery): Promise<string | null>;
  /** Looks for a valid grant without consuming it (dry runs); approval id or null. */
  peekGrant(query: GrantQuery): Promise<string | null>;
  /**
   * Opens an approval, or returns the pending one for the same workflow, node, event and
   * fingerprint (MISP retries and repeated publish attempts do not pile up approvals).
   */
  requestApproval(request: ApprovalRequest): Promise<{ id: string; created: boolean }>;
}
