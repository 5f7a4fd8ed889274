/**
 * The publish gate's server side: opens approvals for `require-approval`, records decisions
 * (idempotent, authorised), publishes an approved event through MISP's API so MISP asks the gate
 * again and a grant lets it through once, checks MISP's real state after every decision, and runs
 * the durable reminder, escalation, timeout and publish messages from the KV queue.
 *
 * @module
 */

import { log } from "../engine/log.ts";
import { PENDING_APPROVAL_KEY } from "../engine/model.ts";
import type { ApprovalGate, ApprovalRequest, GrantQuery } from "../engine/approval_gate.ts";
import { MispError } from "../modules/action/lib/misp_client.ts";
import { IntegrationMissingError } from "../engine/module_errors.ts";
import type { MispApi } from "../engine/module_services.ts";
import { publicationChanges, publicationSnapshot } from "../engine/publication_changes.ts";
import {
  appendHistory,
  APPROVAL_GRANT_TTL_MS,
  type ApprovalCommitExtras,
  type ApprovalHistoryEntry,
  type ApprovalMessage,
  type ApprovalRecord,
  consumeGrant,
  createApproval,
  getApproval,
  getApprovedSnapshot,
  isApprovalMessage,
  message,
  peekGrant,
  updateApproval,
} from "../store/approvals.ts";
import { appendAudit } from "../store/audit.ts";
import { NotFoundError } from "../store/errors.ts";
import { getRun, listRuns } from "../store/runs.ts";
import { ApprovalRefusedError, type ApproverIdentity, refusalOf } from "./approval_policy.ts";

export { ApprovalRefusedError } from "./approval_policy.ts";
export type { ApproverIdentity } from "./approval_policy.ts";

/** Actor of what Flowgate decides itself (timeouts, publication, checks). */
export const SYSTEM_ACTOR = "flowgate";
/** Actor of a timeout decision. */
export const TIMEOUT_ACTOR = "flowgate:timeout";
/** Delay of the publish watchdog message that finishes a publication a crash interrupted. */
export const PUBLISH_RECHECK_MS = 90_000;
/** A publication claimed longer ago than this is taken to have died with its process. */
export const PUBLISH_CLAIM_STALE_MS = 60_000;
/** Newest parked runs of an event searched for the run that opened an approval. */
export const RUN_LOOKUP_LIMIT = 10;
/** Delay before MISP's state is checked again when it is not settled yet. */
export const STATE_RECHECK_MS = 30_000;
/** Most state checks after one decision (the last one alerts on a mismatch). */
export const MAX_STATE_CHECKS = 4;
/** Most attempts to publish an approved event through MISP. */
export const MAX_PUBLISH_ATTEMPTS = 5;
/** First retry delay of a failed publication; it doubles with every attempt. */
export const PUBLISH_RETRY_BASE_MS = 5_000;

/** What changed on an approval, for chat cards and alerts. */
export type ApprovalChangeKind =
  | "created"
  | "vote"
  | "approved"
  | "denied"
  | "refused"
  | "reminder"
  | "escalated"
  | "superseded"
  | "published"
  | "publish-failed"
  | "alert";

/** One change, with the approval as it now stands. */
export interface ApprovalChange {
  kind: ApprovalChangeKind;
  approval: ApprovalRecord;
  actor?: string;
  /** One line for humans: the refusal, the alert, the MISP error. */
  message?: string;
}

/** Called after every change; errors are logged, never thrown back at the decider. */
export type ApprovalListener = (change: ApprovalChange) => void | Promise<void>;

/** A decision from chat or the API. */
export interface DecisionInput extends ApproverIdentity {
  decision: "approve" | "deny";
  reason?: string;
}

/** What a decision did. */
export interface DecisionResult {
  approval: ApprovalRecord;
  /** False when the decision changed nothing (a second press, a retried delivery). */
  changed: boolean;
  /** One line for the chat answer or the API. */
  message: string;
}

/** Options of `createApprovalService`. */
export interface ApprovalServiceOptions {
  kv: Deno.Kv;
  /** MISP's API; without it approvals are recorded but nothing is published or checked. */
  misp: MispApi | null;
  /** Milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
  /** Delay of the first publish retry (tests pass small values). */
  publishRetryBaseMs?: number;
}

/** The publish gate over KV and MISP's API; see the module comment. */
export class ApprovalService implements ApprovalGate {
  readonly #kv: Deno.Kv;
  readonly #misp: MispApi | null;
  readonly #now: () => number;
  readonly #retryBaseMs: number;
  readonly #listeners = new Set<ApprovalListener>();

  /** Builds the service; nothing runs until a module, a decision or a message calls it. */
  constructor(options: ApprovalServiceOptions) {
    this.#kv = options.kv;
    this.#misp = options.misp;
    this.#now = options.now ?? Date.now;
    this.#retryBaseMs = options.publishRetryBaseMs ?? PUBLISH_RETRY_BASE_MS;
  }

  /** Consumes the grant for this event content (once). */
  async consumeGrant(query: GrantQuery): Promise<string | null> {
    const id = await consumeGrant(this.#kv, query, { now: this.#now() });
    if (id !== null) log.info("Approval grant consumed", { approval_id: id });
    return id;
  }

  /** Looks for a valid grant without consuming it. */
  async peekGrant(query: GrantQuery): Promise<string | null> {
    return await peekGrant(this.#kv, query, { now: this.#now() });
  }

  /**
   * Opens an approval (or finds the pending one) with the summary of what the publication changes
   * (against the event's last approved snapshot when there is one); listeners hear of it without
   * being awaited.
   */
  async requestApproval(request: ApprovalRequest): Promise<{ id: string; created: boolean }> {
    const { data, ...rest } = request;
    const previous = data ? await getApprovedSnapshot(this.#kv, request.event.uuid) : null;
    const { record, created, superseded } = await createApproval(this.#kv, rest, {
      now: this.#now(),
      ...(data
        ? { changes: publicationChanges(data, { previous }), snapshot: publicationSnapshot(data) }
        : {}),
    });
    if (superseded) void this.#emit({ kind: "superseded", approval: superseded });
    if (created) void this.#emit({ kind: "created", approval: record });
    return { id: record.id, created };
  }

  /** Registers a listener for every approval change; returns the function that removes it. */
  onApprovalChanged(listener: ApprovalListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The approval with its run id resolved when the record does not have it yet. */
  async getApproval(id: string): Promise<ApprovalRecord | null> {
    const record = await getApproval(this.#kv, id);
    if (record === null || record.run_id !== undefined) return record;
    const runId = await this.#findRun(record);
    if (runId === undefined) return record;
    const { record: linked } = await updateApproval(
      this.#kv,
      id,
      (current) => current.run_id === undefined ? { next: { ...current, run_id: runId } } : null,
    );
    return linked;
  }

  /** The approval a parked run opened (cards carry run ids), or null. */
  async approvalOfRun(runId: string): Promise<ApprovalRecord | null> {
    const run = await getRun(this.#kv, runId);
    if (run === null) return null;
    const entry = run.trace.findLast((item) => item.observed?.[PENDING_APPROVAL_KEY] !== undefined);
    const id = entry?.observed?.[PENDING_APPROVAL_KEY];
    return typeof id === "string" ? await this.getApproval(id) : null;
  }

  /**
   * Records a decision. Approving adds a vote; at the quorum the approval is approved, a grant is
   * left for the event's content and the event is published through MISP. Denying decides at
   * once. Either way MISP's real state is checked afterwards. A decision on an approval that is
   * no longer pending, or a second vote of the same actor, changes nothing.
   *
   * @throws {ApprovalRefusedError} when the actor is not an approver or may not approve their own event
   * @throws {NotFoundError} when there is no such approval
   */
  async decide(id: string, input: DecisionInput): Promise<DecisionResult> {
    const at = new Date(this.#now()).toISOString();
    const current = await this.getApproval(id);
    if (current === null) throw new NotFoundError(`Approval "${id}" not found`);
    if (current.state !== "pending") {
      return { approval: current, changed: false, message: alreadyDecided(current) };
    }
    const refusal = refusalOf(current, input, input.decision);
    if (refusal !== null) {
      const { record } = await updateApproval(this.#kv, id, (next) => ({
        next: withHistory(next, at, {
          type: "refused",
          actor: input.actor,
          reason: refusal,
          details: { decision: input.decision },
        }),
      }));
      await this.#audit(input.actor, "approval.refused", id, { reason: refusal });
      await this.#emit({ kind: "refused", approval: record, actor: input.actor, message: refusal });
      throw new ApprovalRefusedError(id, refusal);
    }
    const { record, changed } = await updateApproval(this.#kv, id, (next) => {
      if (next.state !== "pending") return null;
      if (input.decision === "deny") return decideNow(next, at, "deny", input);
      if (next.votes.some((vote) => vote.actor === input.actor)) return null;
      next.votes.push({
        actor: input.actor,
        at,
        ...(input.reason ? { reason: input.reason } : {}),
      });
      if (next.votes.length < next.policy.quorum) {
        return {
          next: withHistory(next, at, {
            type: "approved",
            actor: input.actor,
            ...(input.reason ? { reason: input.reason } : {}),
            details: { votes: next.votes.length, quorum: next.policy.quorum },
          }),
        };
      }
      return decideNow(next, at, "approve", input);
    });
    if (!changed) {
      const message = record.state === "pending"
        ? `"${input.actor}" already approved approval "${id}" (${record.votes.length} of ${record.policy.quorum})`
        : alreadyDecided(record);
      return { approval: record, changed: false, message };
    }
    await this.#audit(input.actor, `approval.${input.decision}`, id, {
      state: record.state,
      ...(input.reason ? { reason: input.reason } : {}),
    });
    const final = await this.#afterDecision(record, input.actor);
    return { approval: final, changed: true, message: decisionMessage(final, input.actor) };
  }

  /** Handles one approval queue message (reminder, escalation, timeout, publish watchdog). */
  async handleMessage(item: ApprovalMessage): Promise<void> {
    const at = new Date(this.#now()).toISOString();
    if (item.kind === "publish") {
      await this.#publish(item.id);
      return;
    }
    if (item.kind === "check") {
      const record = await getApproval(this.#kv, item.id);
      if (record?.state === "approved" || record?.state === "denied") {
        await this.#checkState(item.id, record.state === "approved");
      }
      return;
    }
    if (item.kind === "timeout") {
      const { record, changed } = await this.#update(item.id, (next) => {
        if (next.state !== "pending") return null;
        const decision = next.policy.on_timeout === "allow" ? "approve" : "deny";
        const reason = `No decision within ${next.policy.timeout_seconds} s: ${
          decision === "approve" ? "allowed (fail open)" : "denied (fail closed)"
        }`;
        const timed = withHistory(next, at, { type: "timeout", actor: TIMEOUT_ACTOR, reason });
        return decideNow(timed, at, decision, { actor: TIMEOUT_ACTOR, reason });
      });
      if (record === null || !changed) return;
      await this.#audit(TIMEOUT_ACTOR, "approval.timeout", item.id, { state: record.state });
      await this.#afterDecision(record, TIMEOUT_ACTOR);
      return;
    }
    const type = item.kind === "remind" ? "reminder" : "escalated";
    const { record, changed } = await this.#update(item.id, (next) => {
      if (next.state !== "pending" || next.history.some((entry) => entry.type === type)) {
        return null;
      }
      return {
        next: withHistory(next, at, {
          type,
          actor: SYSTEM_ACTOR,
          ...(type === "escalated" ? { details: { to: next.policy.escalate_to } } : {}),
        }),
      };
    });
    if (record !== null && changed) await this.#emit({ kind: type, approval: record });
  }

  async #update(
    id: string,
    mutate: Parameters<typeof updateApproval>[2],
  ): Promise<{ record: ApprovalRecord | null; changed: boolean }> {
    if ((await getApproval(this.#kv, id)) === null) {
      log.warn("Approval message for a missing approval", { approval_id: id });
      return { record: null, changed: false };
    }
    return await updateApproval(this.#kv, id, mutate);
  }

  async #afterDecision(record: ApprovalRecord, actor: string): Promise<ApprovalRecord> {
    if (record.state === "approved") {
      await this.#emit({ kind: "approved", approval: record, actor });
      return await this.#publish(record.id) ?? record;
    }
    if (record.state === "pending") {
      await this.#emit({ kind: "vote", approval: record, actor });
      return record;
    }
    await this.#emit({ kind: "denied", approval: record, actor });
    return await this.#checkState(record.id, false);
  }

  /**
   * Publishes an approved event once: claims the publication (a stale claim of a dead process may
   * be taken over), re-arms the grant on a retry, calls MISP, records the outcome, schedules a
   * retry on failure, then checks MISP's state.
   */
  async #publish(id: string): Promise<ApprovalRecord | null> {
    const now = this.#now();
    const at = new Date(now).toISOString();
    const claim = await this.#update(id, (next) => {
      const publish = next.publish;
      if (next.state !== "approved" || publish === undefined) return null;
      const stale = publish.status === "publishing" &&
        now - Date.parse(publish.updated_at) > PUBLISH_CLAIM_STALE_MS;
      const retry = publish.status === "failed" && publish.attempts < MAX_PUBLISH_ATTEMPTS;
      if (publish.status !== "pending" && !stale && !retry) return null;
      next.publish = { status: "publishing", attempts: publish.attempts + 1, updated_at: at };
      next.updated_at = at;
      return { next, ...(publish.attempts > 0 ? { extras: grantFor(next, now) } : {}) };
    });
    if (claim.record === null || !claim.changed) return claim.record;
    const record = claim.record;
    const attempts = record.publish?.attempts ?? 1;
    let error: string | undefined;
    let transient = false;
    if (this.#misp === null) {
      error = "MISP_URL and MISP_API_KEY are not set: the event cannot be published";
    } else {
      try {
        await this.#misp.request("POST", `/events/publish/${eventRef(record)}`);
      } catch (thrown) {
        error = thrown instanceof Error ? thrown.message : String(thrown);
        // A refusal (the gate blocked a changed event, a permission error) will not pass later.
        transient = !(thrown instanceof MispError) || thrown.transient;
      }
    }
    const retryAt = error !== undefined && transient && attempts < MAX_PUBLISH_ATTEMPTS;
    const done = new Date(this.#now()).toISOString();
    const { record: published } = await updateApproval(this.#kv, id, (next) => {
      next.publish = {
        status: error === undefined ? "published" : transient ? "failed" : "refused",
        attempts,
        updated_at: done,
        ...(error === undefined ? {} : { error }),
      };
      const enqueue = retryAt
        ? [{ message: message("publish", id), delayMs: this.#retryBaseMs * 2 ** (attempts - 1) }]
        : [];
      return {
        next: withHistory(next, done, {
          type: "publish",
          actor: SYSTEM_ACTOR,
          details: {
            ok: error === undefined,
            attempt: attempts,
            ...(error === undefined ? {} : { error }),
            ...(retryAt ? { retry: true } : {}),
          },
        }),
        extras: { enqueue },
      };
    });
    if (error !== undefined) {
      log.warn("Approved event not published", { approval_id: id, error });
      await this.#emit({ kind: "publish-failed", approval: published, message: error });
      if (retryAt) return published;
    } else {
      await this.#emit({ kind: "published", approval: published });
    }
    return await this.#checkState(id, true);
  }

  /**
   * Reads the event's `published` flag from MISP and raises an alert when it contradicts the
   * decision; an unsettled state (MISP unreachable, publication accepted but not visible yet) is
   * checked again later, up to `MAX_STATE_CHECKS` times.
   */
  async #checkState(id: string, expected: boolean): Promise<ApprovalRecord> {
    const record = await getApproval(this.#kv, id);
    if (record === null) throw new NotFoundError(`Approval "${id}" not found`);
    if (this.#misp === null) return record;
    let published: boolean | undefined;
    let error: string | undefined;
    try {
      const answer = await this.#misp.request<{ Event?: { published?: unknown } }>(
        "GET",
        `/events/view/${eventRef(record)}`,
      );
      published = isTrue(answer?.Event?.published);
    } catch (thrown) {
      error = thrown instanceof Error ? thrown.message : String(thrown);
    }
    const at = new Date(this.#now()).toISOString();
    const checks = record.history.filter((entry) => entry.type === "state-check").length + 1;
    // MISP may publish from a background job after accepting the call, or be briefly unreachable:
    // look again later before alerting. A veto that MISP ignored is alerted at once.
    const unsettled = published === undefined ||
      (expected && !published && record.publish?.status === "published");
    const recheck = unsettled && checks < MAX_STATE_CHECKS;
    const mismatch = published !== undefined && published !== expected && !recheck;
    const alert = mismatch
      ? `MISP reports event "${record.event.uuid}" as ${
        published ? "published" : "not published"
      } although approval "${id}" was ${record.state}`
      : undefined;
    const { record: checked } = await updateApproval(this.#kv, id, (next) => {
      let updated = withHistory(next, at, {
        type: "state-check",
        actor: SYSTEM_ACTOR,
        details: {
          expected_published: expected,
          ...(published === undefined ? { error: error ?? "no answer" } : { published }),
          ok: published === expected,
          ...(recheck ? { recheck_in_ms: STATE_RECHECK_MS } : {}),
        },
      });
      if (alert) {
        updated = withHistory(updated, at, { type: "alert", actor: SYSTEM_ACTOR, reason: alert });
      }
      const enqueue = recheck ? [{ message: message("check", id), delayMs: STATE_RECHECK_MS }] : [];
      return { next: updated, extras: { enqueue } };
    });
    if (alert) {
      log.warn("Approval state mismatch", { approval_id: id, alert });
      await this.#audit(SYSTEM_ACTOR, "approval.alert", id, { alert });
      await this.#emit({ kind: "alert", approval: checked, message: alert });
    }
    return checked;
  }

  async #findRun(record: ApprovalRecord): Promise<string | undefined> {
    const page = await listRuns(this.#kv, {
      eventUuid: record.event.uuid,
      outcome: "pending-approval",
      limit: RUN_LOOKUP_LIMIT,
    });
    for (const summary of page.items) {
      const run = await getRun(this.#kv, summary.id);
      if (run?.trace.some((entry) => entry.observed?.[PENDING_APPROVAL_KEY] === record.id)) {
        return run.id;
      }
    }
    return undefined;
  }

  async #audit(actor: string, action: string, target: string, details: Record<string, unknown>) {
    await appendAudit(this.#kv, { actor, action, target, details: details as never }, {
      now: new Date(this.#now()),
    });
  }

  async #emit(change: ApprovalChange): Promise<void> {
    for (const listener of this.#listeners) {
      try {
        await listener(change);
      } catch (error) {
        log.error("Approval listener failed", {
          kind: change.kind,
          approval_id: change.approval.id,
          error: String(error),
        });
      }
    }
  }
}

/** Builds the server's approval service (the `approvals` member of `ModuleServices`). */
export function createApprovalService(options: ApprovalServiceOptions): ApprovalService {
  return new ApprovalService(options);
}

/**
 * The app's approval service, for the chat code, the console and the API.
 *
 * @throws {IntegrationMissingError} when the app runs without one
 */
export function approvalServiceOf(ctx: { approvals: ApprovalService | null }): ApprovalService {
  if (ctx.approvals === null) {
    throw new IntegrationMissingError("the approval service (the publish gate)");
  }
  return ctx.approvals;
}

/**
 * Wraps the KV queue handler: approval messages (reminders, escalations, timeouts, publish
 * watchdogs) go to the approval service, everything else to `next`. A thrown error makes the
 * queue deliver the message again.
 */
export function withApprovalMessages(
  ctx: { approvals: ApprovalService | null },
  next: (message: unknown) => Promise<void>,
): (message: unknown) => Promise<void> {
  return async (item: unknown) => {
    if (!isApprovalMessage(item)) return await next(item);
    const gate = ctx.approvals;
    if (gate === null) {
      log.warn("Approval message dropped: no approval service", { approval_id: item.id });
      return;
    }
    await gate.handleMessage(item);
  };
}

/**
 * Records a decision on approval `id` (chat buttons and commands, the API); see
 * `ApprovalService.decide`.
 */
export async function decideApproval(
  ctx: { approvals: ApprovalService | null },
  id: string,
  input: DecisionInput,
): Promise<DecisionResult> {
  return await approvalServiceOf(ctx).decide(id, input);
}

/** The approval a parked run opened (chat buttons carry run ids), or null. */
export async function approvalOfRun(
  ctx: { approvals: ApprovalService | null },
  runId: string,
): Promise<ApprovalRecord | null> {
  return await approvalServiceOf(ctx).approvalOfRun(runId);
}

/** Registers a listener for approval changes (chat cards); returns the function that removes it. */
export function onApprovalChanged(
  ctx: { approvals: ApprovalService | null },
  listener: ApprovalListener,
): () => void {
  return approvalServiceOf(ctx).onApprovalChanged(listener);
}

function withHistory(
  record: ApprovalRecord,
  at: string,
  entry: Omit<ApprovalHistoryEntry, "at">,
): ApprovalRecord {
  return { ...record, updated_at: at, history: appendHistory(record.history, { at, ...entry }) };
}

/** The approval decided now: state, decision, history, grant and publish watchdog on approval. */
function decideNow(
  record: ApprovalRecord,
  at: string,
  decision: "approve" | "deny",
  input: { actor: string; reason?: string },
): { next: ApprovalRecord; extras: ApprovalCommitExtras } {
  const next = withHistory(record, at, {
    type: decision === "approve" ? "approved" : "denied",
    actor: input.actor,
    ...(input.reason ? { reason: input.reason } : {}),
    details: { final: true, votes: record.votes.length, quorum: record.policy.quorum },
  });
  next.state = decision === "approve" ? "approved" : "denied";
  next.decision = {
    decision,
    actor: input.actor,
    at,
    ...(input.reason ? { reason: input.reason } : {}),
  };
  if (decision === "deny") return { next, extras: { closeOpen: true } };
  next.publish = { status: "pending", attempts: 0, updated_at: at };
  return {
    next,
    extras: {
      closeOpen: true,
      ...grantFor(next, Date.parse(at)),
      enqueue: [{ message: message("publish", record.id), delayMs: PUBLISH_RECHECK_MS }],
    },
  };
}

function grantFor(record: ApprovalRecord, now: number): Pick<ApprovalCommitExtras, "grant"> {
  return {
    grant: {
      query: { event_uuid: record.event.uuid, fingerprint: record.fingerprint },
      grant: {
        approval_id: record.id,
        expires_at: new Date(now + APPROVAL_GRANT_TTL_MS).toISOString(),
      },
    },
  };
}

function eventRef(record: ApprovalRecord): string {
  return encodeURIComponent(record.event.id !== "" ? record.event.id : record.event.uuid);
}

function isTrue(value: unknown): boolean {
  return value === true || value === 1 || value === "1" || value === "true";
}

function alreadyDecided(record: ApprovalRecord): string {
  if (record.state === "superseded") {
    return `Approval "${record.id}" was superseded: the event changed, a newer approval is open`;
  }
  const by = record.decision ? ` by "${record.decision.actor}"` : "";
  return `Approval "${record.id}" is already ${record.state}${by}`;
}

function decisionMessage(record: ApprovalRecord, actor: string): string {
  if (record.state === "pending") {
    return `"${actor}" approved approval "${record.id}" (${record.votes.length} of ${record.policy.quorum})`;
  }
  if (record.state === "denied") {
    return `"${actor}" denied approval "${record.id}": event "${record.event.uuid}" stays unpublished`;
  }
  const publish = record.publish?.status === "published"
    ? "the event was published through MISP"
    : `publishing through MISP ${record.publish?.status ?? "pending"}`;
  return `"${actor}" approved approval "${record.id}": ${publish}`;
}
