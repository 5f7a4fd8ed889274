/**
 * Every Deno KV key prefix, limit and retention the store uses, in one place.
 *
 * @module
 */

/** Primary workflow records: `["workflows", id]` → `StoredWorkflow`. */
export const KEY_WORKFLOWS = "workflows";
/** Unique name index: `["workflows_by_name", name]` → workflow id. */
export const KEY_WORKFLOWS_BY_NAME = "workflows_by_name";
/** Trigger index: `["workflows_by_trigger", trigger, order, id]` → workflow id. */
export const KEY_WORKFLOWS_BY_TRIGGER = "workflows_by_trigger";
/** Version history: `["workflow_versions", id, version]` → `WorkflowVersion`. */
export const KEY_WORKFLOW_VERSIONS = "workflow_versions";
/** Counter (`Deno.KvU64`) every workflow write bumps in its commit; caches compare it. */
export const KEY_WORKFLOWS_REVISION = "workflows_revision";

/** Run summaries (no trace): `["runs", runId]`; ULID ids make this the time index too. */
export const KEY_RUNS = "runs";
/** Trace chunks: `["run_traces", runId, chunk]` → `Uint8Array` of JSON. */
export const KEY_RUN_TRACES = "run_traces";
/** Input chunks shared by equal inputs: `["run_inputs", sha256, chunk]` → `Uint8Array` of JSON. */
export const KEY_RUN_INPUTS = "run_inputs";
/** Index: `["runs_by_workflow", workflowId, runId]` → null. */
export const KEY_RUNS_BY_WORKFLOW = "runs_by_workflow";
/** Index: `["runs_by_trigger", trigger, runId]` → null. */
export const KEY_RUNS_BY_TRIGGER = "runs_by_trigger";
/** Index: `["runs_by_outcome", outcome, runId]` → null. */
export const KEY_RUNS_BY_OUTCOME = "runs_by_outcome";
/** Index: `["runs_by_event", eventUuid, runId]` → null; absent when the uuid had to be cut. */
export const KEY_RUNS_BY_EVENT = "runs_by_event";
/** Index: `["runs_by_event_id", MISP event id, runId]` → null; MISP's numeric id of the event. */
export const KEY_RUNS_BY_EVENT_ID = "runs_by_event_id";
/**
 * A run's whole `errors` when its summary holds them cut: `["run_errors", runId, chunk]` →
 * `Uint8Array` of JSON. `getRun` reads them back.
 */
export const KEY_RUN_ERRORS = "run_errors";
/**
 * Queue retries of a run's failed actions: `["run_attempts", runId, nodeId, attempt]` →
 * `RunAttempt`, attempt 1 being the run itself.
 */
export const KEY_RUN_ATTEMPTS = "run_attempts";

/** Audit log: `["audit", id]` → `AuditEntry`, newest last in key order. */
export const KEY_AUDIT = "audit";
/** Dead letters: `["dead_letters", id]` → `DeadLetter` (or a raw undelivered queue message). */
export const KEY_DEAD_LETTERS = "dead_letters";
/** Webhook intakes: `["intakes", id]` → `IntakeRecord`. */
export const KEY_INTAKES = "intakes";
/** Intake payload chunks: `["intake_payloads", intakeId, chunk]` → `Uint8Array` of JSON. */
export const KEY_INTAKE_PAYLOADS = "intake_payloads";
/** Dedupe markers: `["intake_dedupe", trigger, dedupeKey]` → `IntakeDedupe`, expiring with the window. */
export const KEY_INTAKE_DEDUPE = "intake_dedupe";
/** Approvals, owned by the approval code; the store only backs them up and restores them. */
export const KEY_APPROVALS = "approvals";
/** The admin token's SHA-256: `["admin_token"]` → `AdminTokenRecord`. */
export const KEY_ADMIN_TOKEN = "admin_token";

/** Largest value Deno KV accepts, in bytes. */
export const MAX_VALUE_BYTES = 65_536;
/** Largest key Deno KV accepts for a write, in bytes. */
export const MAX_KEY_BYTES = 2_048;
/** Most mutations in one atomic commit. */
export const MAX_COMMIT_MUTATIONS = 1_000;
/** Most mutation bytes (keys and values) in one atomic commit. */
export const MAX_COMMIT_BYTES = 819_200;
/** Most key bytes in one atomic commit. */
export const MAX_COMMIT_KEY_BYTES = 81_920;
/** Checks we allow ourselves per commit, so self-hosted denokv (limit 10) works too. */
export const MAX_COMMIT_CHECKS = 10;
/** Most keys in one `getMany`. */
export const MAX_GET_MANY_KEYS = 10;

/** Size of one chunk of a chunked JSON value (trace, input, payload), under the value limit. */
export const CHUNK_BYTES = 60_000;
/** Budget the packer fills per commit, leaving room for estimate error under `MAX_COMMIT_BYTES`. */
export const COMMIT_BUDGET_BYTES = 786_432;
/** Budget of key bytes the packer fills per commit, under `MAX_COMMIT_KEY_BYTES`. */
export const COMMIT_BUDGET_KEY_BYTES = 73_728;
/** Largest stored workflow (JSON bytes); bigger ones are refused rather than chunked. */
export const MAX_WORKFLOW_VALUE_BYTES = 60_000;
/** Largest run summary (JSON bytes, trace excluded); the caps below keep every summary under it. */
export const MAX_RUN_SUMMARY_BYTES = 60_000;
/** Characters of `event.info` a run summary keeps; the whole text stays in the run's input. */
export const MAX_RUN_EVENT_INFO_CHARS = 2_048;
/**
 * Characters of `event.uuid`, `event.id` and `event.timestamp` a run summary keeps (a real one
 * is under 40); a cut uuid gets no `runs_by_event` entry.
 */
export const MAX_RUN_EVENT_KEY_CHARS = 256;
/** Characters of each error message a run summary keeps; the whole list is in `run_errors`. */
export const MAX_RUN_ERROR_CHARS = 2_048;
/** Error messages a run summary keeps; one more line says how many were left out. */
export const MAX_RUN_ERRORS = 10;
/** Characters of any other string of a run summary (workflow name, actor id, node id…). */
export const MAX_RUN_TEXT_CHARS = 512;
/** Largest key part an index entry is written for, in UTF-8 bytes, well under `MAX_KEY_BYTES`. */
export const MAX_INDEX_KEY_PART_BYTES = 1_024;
/** Characters of an attempt's error message (`run_attempts`). */
export const MAX_RUN_ATTEMPT_ERROR_CHARS = 4_096;
/** Intakes and queue jobs `countQueueDepth` looks at per scrape, newest first, each. */
export const MAX_QUEUE_DEPTH_SCAN = 2_000;

/** One day in milliseconds. */
export const DAY_MS = 86_400_000;
/** Default retention of runs, traces and inputs (`FLOWGATE_RETENTION_DAYS`). */
export const DEFAULT_RUN_RETENTION_DAYS = 14;
/** Retention of the audit log. */
export const AUDIT_RETENTION_DAYS = 365;
/** Retention of dead letters. */
export const DEAD_LETTER_RETENTION_DAYS = 30;
/** Retention of intake records and their payloads (the queue is done with them long before). */
export const INTAKE_RETENTION_DAYS = 7;

/** Queue retry schedule for intake messages (at most 5 entries, each at most 1 hour). */
export const QUEUE_BACKOFF_MS: readonly number[] = [1_000, 5_000, 30_000, 120_000, 600_000];

/** Default page size of list functions. */
export const DEFAULT_PAGE_SIZE = 50;
/** Largest page size of list functions. */
export const MAX_PAGE_SIZE = 500;
/** Most index entries one filtered list call scans before it returns a short page and a cursor. */
export const MAX_LIST_SCAN = 5_000;
/** Attempts of a read-modify-write loop before it gives up with a `ConflictError`. */
export const MAX_WRITE_ATTEMPTS = 5;
/** Random bytes in a generated admin token. */
export const ADMIN_TOKEN_BYTES = 32;
