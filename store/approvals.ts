/**
 * Approvals in Deno KV: records with their whole history, the open-approval index that stops
 * repeated publish attempts from piling up approvals, single-use grants bound to an event's
 * content, and the timer messages (reminder, escalation, timeout) enqueued with the record.
 * Every key lives under `KEY_APPROVALS`, so backups carry approvals whole.
 *
 * @module
 */

import { monotonicFactory } from "ulid";
import type { JsonObject } from "../engine/model.ts";
import type { PublicationChanges, PublicationSnapshot } from "../engine/publication_changes.ts";
import type {
  ApprovalEvent,
  ApprovalPolicy,
  ApprovalRequest,
  GrantQuery,
} from "../engine/approval_gate.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { DAY_MS, KEY_APPROVALS, MAX_LIST_SCAN, MAX_WRITE_ATTEMPTS } from "./keys.ts";

/** Records: `["approvals", "record", id]` → `ApprovalRecord`. */
export const APPROVAL_RECORDS = "record";
/** State index: `["approvals", "by_state", state, id]` → null. */
export const APPROVAL_BY_STATE = "by_state";
/** Open approvals: `["approvals", "open", workflow, nodeId, eventUuid]` → `OpenApproval`. */
export const APPROVAL_OPEN = "open";
/** Grants: `["approvals", "grant", eventUuid, fingerprint]` → `ApprovalGrant`. */
export const APPROVAL_GRANTS = "grant";
/**
 * The last approved content of an event: `["approvals", "approved_snapshot", eventUuid]` →
 * `PublicationSnapshot`, written when an approval is approved, read to summarise the next one.
 */
export const APPROVAL_SNAPSHOTS = "approved_snapshot";
/** How long approval records are kept (longer than runs). */
export const APPROVAL_RETENTION_DAYS = 90;
/** How long a grant waits for MISP to ask the gate again after an approval. */
export const APPROVAL_GRANT_TTL_MS = 3_600_000;
/** Most history entries one record keeps (the first, then the latest). */
export const MAX_APPROVAL_HISTORY = 200;
/** Default and largest page of `listApprovals`. */
export const DEFAULT_APPROVAL_PAGE = 50;
/** `type` of the queue messages approvals enqueue. */
export const APPROVAL_MESSAGE_TYPE = "approval";
/** Queue retry schedule of approval messages (at most 5 entries, each at most 1 hour). */
export const APPROVAL_QUEUE_BACKOFF_MS: readonly number[] = [1_000, 5_000, 30_000, 120_000];

/** Where an approval stands. `superseded`: the event changed while it was pending. */
export type ApprovalState = "pending" | "approved" | "denied" | "superseded";

/** What a history entry records. */
export type ApprovalHistoryType =
  | "created"
  | "requested-again"
  | "approved"
  | "denied"
  | "refused"
  | "reminder"
  | "escalated"
  | "timeout"
  | "superseded"
  | "publish"
  | "state-check"
  | "alert";

/** One line of an approval's history. */
export interface ApprovalHistoryEntry {
  at: string;
  type: ApprovalHistoryType;
  /** `slack:U1`, `api:admin`, `flowgate` for the system. */
  actor?: string;
  reason?: string;
  details?: JsonObject;
}

/** One approver's vote. */
export interface ApprovalVote {
  actor: string;
  at: string;
  reason?: string;
}

/**
 * Where the re-publication through MISP stands after an approval: `failed` may pass when tried
 * again (timeout, 5xx), `refused` will not (MISP or the gate said no).
 */
export interface ApprovalPublish {
  status: "pending" | "publishing" | "published" | "failed" | "refused";
  attempts: number;
  "updated_at": string;
  error?: string;
}

/** An approval with its whole history. */
export interface ApprovalRecord {
  /** ULID. */
  id: string;
  state: ApprovalState;
  "created_at": string;
  "updated_at": string;
  workflow: string;
  "node_id": string;
  /** The run that was parked; filled in once the run is found (`linkApprovalRun`). */
  "run_id"?: string;
  event: ApprovalEvent;
  fingerprint: string;
  publisher?: string;
  reason: string;
  policy: ApprovalPolicy;
  /** What the publication sends out since the last one (bounded; see `publicationChanges`). */
  changes?: PublicationChanges;
  /** Compact content of the event (ids, tags), kept as the next comparison base on approval. */
  snapshot?: PublicationSnapshot;
  votes: ApprovalVote[];
  /** The final decision (approve at quorum, deny, or the timeout outcome). */
  decision?: { decision: "approve" | "deny"; actor: string; at: string; reason?: string };
  publish?: ApprovalPublish;
  /** Deadlines, ISO times. */
  "timeout_at": string;
  "remind_at"?: string;
  "escalate_at"?: string;
  history: ApprovalHistoryEntry[];
}

/** The open approval of a workflow node for one event. */
export interface OpenApproval {
  id: string;
  fingerprint: string;
}

/** A single-use pass for one event content, left by an approval. */
export interface ApprovalGrant {
  "approval_id": string;
  "expires_at": string;
}

/** The timer, publish and state-check messages approvals put on the KV queue. */
export interface ApprovalMessage {
  type: typeof APPROVAL_MESSAGE_TYPE;
  kind: "remind" | "escalate" | "timeout" | "publish" | "check";
  id: string;
}

/** Options of `createApproval`. */
export interface CreateApprovalOptions {
  now: number;
  /** What the publication changes, stored with the record. */
  changes?: PublicationChanges;
  /** The event's compact content, stored with the record. */
  snapshot?: PublicationSnapshot;
}

/** Options of `listApprovals`. */
export interface ListApprovalsOptions {
  state?: ApprovalState;
  /** Event uuid. */
  event?: string;
  workflow?: string;
  limit?: number;
}

/** What `updateApproval`'s mutation may add to the commit besides the record. */
export interface ApprovalCommitExtras {
  grant?: { query: GrantQuery; grant: ApprovalGrant };
  /** Drop the open-approval index entry (the approval is decided). */
  closeOpen?: boolean;
  enqueue?: { message: ApprovalMessage; delayMs: number }[];
}

const ulid = monotonicFactory();

/** `["approvals", "record", id]`. */
export function approvalKey(id: string): Deno.KvKey {
  return [KEY_APPROVALS, APPROVAL_RECORDS, id];
}

function stateKey(state: ApprovalState, id: string): Deno.KvKey {
  return [KEY_APPROVALS, APPROVAL_BY_STATE, state, id];
}

function openKey(record: Pick<ApprovalRecord, "workflow" | "node_id" | "event">): Deno.KvKey {
  return [KEY_APPROVALS, APPROVAL_OPEN, record.workflow, record.node_id, record.event.uuid];
}

function snapshotKey(eventUuid: string): Deno.KvKey {
  return [KEY_APPROVALS, APPROVAL_SNAPSHOTS, eventUuid];
}

/** The snapshot of the event's last approved publication, or null. */
export async function getApprovedSnapshot(
  kv: Deno.Kv,
  eventUuid: string,
): Promise<PublicationSnapshot | null> {
  return (await kv.get<PublicationSnapshot>(snapshotKey(eventUuid))).value;
}

function grantKey(query: GrantQuery): Deno.KvKey {
  return [KEY_APPROVALS, APPROVAL_GRANTS, query.event_uuid, query.fingerprint];
}

const RETENTION_MS = APPROVAL_RETENTION_DAYS * DAY_MS;

/**
 * Opens an approval for `request`, or returns the pending one of the same workflow node and event
 * when it has the same fingerprint. A pending one with another fingerprint (the event changed) is
 * superseded in the same commit. The timer messages are enqueued in that commit too, so they
 * survive a restart.
 *
 * @throws {ConflictError} when concurrent writers keep winning the race
 */
export async function createApproval(
  kv: Deno.Kv,
  request: ApprovalRequest,
  options: CreateApprovalOptions,
): Promise<{ record: ApprovalRecord; created: boolean; superseded?: ApprovalRecord }> {
  const at = new Date(options.now).toISOString();
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const open = await kv.get<OpenApproval>(openKey(request));
    let previous: Deno.KvEntryMaybe<ApprovalRecord> | null = null;
    if (open.value !== null) {
      previous = await kv.get<ApprovalRecord>(approvalKey(open.value.id));
      if (previous.value?.state === "pending" && open.value.fingerprint === request.fingerprint) {
        return { record: previous.value, created: false };
      }
    }
    const id = ulid(options.now);
    const policy = request.policy;
    const record: ApprovalRecord = {
      id,
      state: "pending",
      created_at: at,
      updated_at: at,
      workflow: request.workflow,
      node_id: request.node_id,
      event: request.event,
      fingerprint: request.fingerprint,
      ...(request.publisher ? { publisher: request.publisher } : {}),
      reason: request.reason,
      policy,
      ...(options.changes ? { changes: options.changes } : {}),
      ...(options.snapshot ? { snapshot: options.snapshot } : {}),
      votes: [],
      timeout_at: new Date(options.now + policy.timeout_seconds * 1_000).toISOString(),
      history: [{ at, type: "created", actor: "flowgate", reason: request.reason }],
    };
    const timers: { message: ApprovalMessage; delayMs: number }[] = [
      { message: message("timeout", id), delayMs: policy.timeout_seconds * 1_000 },
    ];
    if (policy.reminder_seconds > 0 && policy.reminder_seconds < policy.timeout_seconds) {
      record.remind_at = new Date(options.now + policy.reminder_seconds * 1_000).toISOString();
      timers.push({ message: message("remind", id), delayMs: policy.reminder_seconds * 1_000 });
    }
    if (policy.escalation_seconds > 0 && policy.escalation_seconds < policy.timeout_seconds) {
      record.escalate_at = new Date(options.now + policy.escalation_seconds * 1_000)
        .toISOString();
      timers.push({
        message: message("escalate", id),
        delayMs: policy.escalation_seconds * 1_000,
      });
    }
    const atomic = kv.atomic().check(open)
      .set(approvalKey(id), record, { expireIn: RETENTION_MS })
      .set(stateKey("pending", id), null, { expireIn: RETENTION_MS })
      .set(openKey(request), { id, fingerprint: request.fingerprint } satisfies OpenApproval, {
        expireIn: RETENTION_MS,
      });
    let superseded: ApprovalRecord | undefined;
    if (previous?.value?.state === "pending") {
      superseded = {
        ...previous.value,
        state: "superseded",
        updated_at: at,
        history: appendHistory(previous.value.history, {
          at,
          type: "superseded",
          actor: "flowgate",
          reason: "The event changed while the approval was pending",
          details: { by: id },
        }),
      };
      atomic.check(previous)
        .set(approvalKey(superseded.id), superseded, { expireIn: RETENTION_MS })
        .delete(stateKey("pending", superseded.id))
        .set(stateKey("superseded", superseded.id), null, { expireIn: RETENTION_MS });
    }
    for (const timer of timers) enqueue(atomic, timer.message, timer.delayMs);
    if ((await atomic.commit()).ok) {
      return { record, created: true, ...(superseded ? { superseded } : {}) };
    }
  }
  throw new ConflictError(
    `Cannot open approval for event "${request.event.uuid}": too many concurrent writes`,
  );
}

/** The approval `id`, or null. */
export async function getApproval(kv: Deno.Kv, id: string): Promise<ApprovalRecord | null> {
  return (await kv.get<ApprovalRecord>(approvalKey(id))).value;
}

/**
 * Reads, changes and writes approval `id` atomically (retrying on a lost race). `mutate` returns
 * the next record and what else to commit, or null to leave everything as it is.
 *
 * @returns the record as stored after the call and whether this call changed it
 * @throws {NotFoundError} when there is no such approval
 * @throws {ConflictError} when concurrent writers keep winning the race
 */
export async function updateApproval(
  kv: Deno.Kv,
  id: string,
  mutate: (
    record: ApprovalRecord,
  ) => { next: ApprovalRecord; extras?: ApprovalCommitExtras } | null,
): Promise<{ record: ApprovalRecord; changed: boolean }> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const entry = await kv.get<ApprovalRecord>(approvalKey(id));
    if (entry.value === null) throw new NotFoundError(`Approval "${id}" not found`);
    const change = mutate(structuredClone(entry.value));
    if (change === null) return { record: entry.value, changed: false };
    const { next, extras = {} } = change;
    const atomic = kv.atomic().check(entry)
      .set(approvalKey(id), next, { expireIn: RETENTION_MS });
    if (next.state !== entry.value.state) {
      atomic.delete(stateKey(entry.value.state, id))
        .set(stateKey(next.state, id), null, { expireIn: RETENTION_MS });
      if (next.state === "approved" && next.snapshot) {
        atomic.set(snapshotKey(next.event.uuid), next.snapshot, { expireIn: RETENTION_MS });
      }
    }
    if (extras.grant) {
      atomic.set(grantKey(extras.grant.query), extras.grant.grant, {
        expireIn: Math.max(
          1,
          Date.parse(extras.grant.grant.expires_at) - Date.parse(next.updated_at),
        ),
      });
    }
    if (extras.closeOpen) {
      const open = await kv.get<OpenApproval>(openKey(next));
      if (open.value?.id === id) atomic.check(open).delete(openKey(next));
    }
    for (const item of extras.enqueue ?? []) enqueue(atomic, item.message, item.delayMs);
    if ((await atomic.commit()).ok) return { record: next, changed: true };
  }
  throw new ConflictError(`Cannot update approval "${id}": too many concurrent writes`);
}

/**
 * Consumes the grant for this event content: atomic check and delete, so two concurrent
 * re-publications cannot both pass. Expired grants are refused (and removed).
 *
 * @returns the approval id of the consumed grant, or null
 */
export async function consumeGrant(
  kv: Deno.Kv,
  query: GrantQuery,
  options: { now: number },
): Promise<string | null> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const entry = await kv.get<ApprovalGrant>(grantKey(query));
    if (entry.value === null) return null;
    const valid = Date.parse(entry.value.expires_at) > options.now;
    const result = await kv.atomic().check(entry).delete(grantKey(query)).commit();
    if (result.ok) return valid ? entry.value.approval_id : null;
  }
  return null;
}

/** The approval id of a valid grant for this event content, without consuming it. */
export async function peekGrant(
  kv: Deno.Kv,
  query: GrantQuery,
  options: { now: number },
): Promise<string | null> {
  const grant = (await kv.get<ApprovalGrant>(grantKey(query))).value;
  return grant !== null && Date.parse(grant.expires_at) > options.now ? grant.approval_id : null;
}

/**
 * Approvals, pending first (oldest pending first, as a to-do list), then the rest newest first;
 * filters on state, event uuid and workflow.
 */
export async function listApprovals(
  kv: Deno.Kv,
  options: ListApprovalsOptions = {},
): Promise<ApprovalRecord[]> {
  const limit = Math.min(Math.max(1, options.limit ?? DEFAULT_APPROVAL_PAGE), MAX_LIST_SCAN);
  const keep = (record: ApprovalRecord | null): record is ApprovalRecord =>
    record !== null &&
    (options.state === undefined || record.state === options.state) &&
    (options.event === undefined || record.event.uuid === options.event) &&
    (options.workflow === undefined || record.workflow === options.workflow);
  const items: ApprovalRecord[] = [];
  const seen = new Set<string>();
  let scanned = 0;
  if (options.state === undefined || options.state === "pending") {
    for await (const entry of kv.list({ prefix: [KEY_APPROVALS, APPROVAL_BY_STATE, "pending"] })) {
      if (++scanned > MAX_LIST_SCAN || items.length >= limit) return items;
      const id = String(entry.key[entry.key.length - 1]);
      const record = await getApproval(kv, id);
      if (!keep(record)) continue;
      items.push(record);
      seen.add(id);
    }
    if (options.state === "pending") return items;
  }
  for await (
    const entry of kv.list<ApprovalRecord>({ prefix: [KEY_APPROVALS, APPROVAL_RECORDS] }, {
      reverse: true,
    })
  ) {
    if (++scanned > MAX_LIST_SCAN || items.length >= limit) break;
    if (seen.has(entry.value.id) || !keep(entry.value)) continue;
    items.push(entry.value);
  }
  return items;
}

/** `history` with `entry` appended, keeping the first entry and the latest ones under the cap. */
export function appendHistory(
  history: ApprovalHistoryEntry[],
  entry: ApprovalHistoryEntry,
): ApprovalHistoryEntry[] {
  const next = [...history, entry];
  if (next.length <= MAX_APPROVAL_HISTORY) return next;
  return [next[0] as ApprovalHistoryEntry, ...next.slice(next.length - MAX_APPROVAL_HISTORY + 1)];
}

/** An approval queue message. */
export function message(kind: ApprovalMessage["kind"], id: string): ApprovalMessage {
  return { type: APPROVAL_MESSAGE_TYPE, kind, id };
}

/** True when `value` is a message `createApproval` or `updateApproval` enqueued. */
export function isApprovalMessage(value: unknown): value is ApprovalMessage {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<ApprovalMessage>;
  return candidate.type === APPROVAL_MESSAGE_TYPE && typeof candidate.id === "string" &&
    ["remind", "escalate", "timeout", "publish", "check"].includes(String(candidate.kind));
}

function enqueue(atomic: Deno.AtomicOperation, value: ApprovalMessage, delayMs: number): void {
  atomic.enqueue(value, {
    delay: Math.max(0, Math.round(delayMs)),
    backoffSchedule: [...APPROVAL_QUEUE_BACKOFF_MS],
  });
}
