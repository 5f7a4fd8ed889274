/**
 * The records the store keeps: workflows and their versions, runs, audit entries, dead letters
 * and webhook intakes.
 *
 * @module
 */

import type { JsonObject, Outcome, RunActor, TraceEntry, Workflow } from "../engine/model.ts";

/** The format a workflow was saved from. */
export type SourceFormat = "yaml" | "misp" | "blueprint";

/** A workflow as stored: the model plus identity, version and bookkeeping. */
export interface StoredWorkflow {
  /** ULID. */
  id: string;
  name: string;
  /** 1 for a new workflow, +1 on every write. */
  version: number;
  workflow: Workflow;
  "source_format": SourceFormat;
  "created_at": string;
  "updated_at": string;
  "updated_by": string;
  /** ISO time after which a disabled workflow counts as enabled again. */
  "disabled_until"?: string;
  /** Set when the workflow comes from `FLOWGATE_WORKFLOWS_DIR`. */
  "managed_by"?: "dir";
}

/** One saved version of a workflow, kept for history and diffs. */
export interface WorkflowVersion {
  "workflow_id": string;
  version: number;
  workflow: Workflow;
  "saved_at": string;
  "saved_by": string;
  /** One line on what changed from the previous version: "created", "params of node x changed"… */
  change: string;
}

/** Summary of the event a run looked at. */
export interface RunEventSummary {
  uuid?: string;
  id?: string;
  info?: string;
  timestamp?: string;
}

/** One run of one workflow on one payload, with its trace. */
export interface RunRecord {
  /** ULID; its time part orders runs. */
  id: string;
  "workflow_id": string;
  "workflow_name": string;
  "workflow_version": number;
  trigger: string;
  actor: RunActor;
  "started_at": string;
  "finished_at": string;
  "duration_ms": number;
  outcome: Outcome;
  success: boolean;
  errors: string[];
  "deciding_node_id"?: string;
  "dry_run": boolean;
  event?: RunEventSummary;
  /** SHA-256 hex of the input's JSON; the store sets it to the hash of what it stored. */
  "input_hash": string;
  trace: TraceEntry[];
  "replay_of"?: string;
  mode?: "original" | "current";
  "timed_out"?: boolean;
  /**
   * Queue retries of the run's failed actions, oldest first, attempt 1 being the run itself.
   * Only `getRun` fills it (they are stored apart, under `run_attempts`); absent when none.
   */
  attempts?: RunAttempt[];
}

/** One attempt of a failed non-blocking action of a run: the run itself (1), then each retry. */
export interface RunAttempt {
  /** 1 for the run itself, 2 for the first retry… */
  attempt: number;
  "node_id": string;
  /** When the attempt ended. */
  at: string;
  ok: boolean;
  /** Why it failed (cut to `MAX_RUN_ATTEMPT_ERROR_CHARS`). */
  error?: string;
  /** When the next attempt is due; absent when this one succeeded or was the last. */
  "next_try_at"?: string;
}

/** One line of the audit log. */
export interface AuditEntry {
  /** ULID. */
  id: string;
  at: string;
  /** `api:admin`, `slack:U123@C456`… */
  actor: string;
  /** `workflow.create`, `workflow.disable`, `chat.command`… */
  action: string;
  target?: string;
  details?: JsonObject;
}

/** One page of a list; `cursor` is absent when there is nothing more. */
export interface Page<T> {
  items: T[];
  cursor?: string;
}

/** Work that failed for good (queue retries exhausted), kept for an operator to look at. */
export interface DeadLetter {
  /** ULID. */
  id: string;
  at: string;
  /** `intake`, `action-retry`, `chat-post`, or `queue` for a message the queue gave up on. */
  kind: string;
  payload: unknown;
  error: string;
  attempts: number;
}

/** A durably accepted webhook, waiting for the queue to run it. */
export interface IntakeRecord {
  /** ULID. */
  id: string;
  trigger: string;
  "dedupe_key": string;
  "run_ids": string[];
  "received_at": string;
  /** SHA-256 hex of the payload's JSON. */
  "payload_hash": string;
  "payload_bytes": number;
  "payload_chunks": number;
}

/** The queue message `recordIntake` enqueues; the listener loads the payload with `getIntakePayload`. */
export interface IntakeMessage {
  type: "intake";
  "intake_id": string;
  trigger: string;
  "run_ids": string[];
}
