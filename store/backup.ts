/**
 * Backup and restore as JSON lines: workflows with their versions, runs with inputs and traces,
 * approvals and the audit log, one record per line with a `type` field. Restoring is idempotent.
 *
 * @module
 */

import { isDeepStrictEqual } from "node:util";
import type { TraceEntry } from "../engine/model.ts";
import { decodeJson, readChunks } from "./chunks.ts";
import { writeAudit } from "./audit.ts";
import { ConflictError } from "./errors.ts";
import {
  KEY_APPROVALS,
  KEY_AUDIT,
  KEY_RUN_INPUTS,
  KEY_RUN_TRACES,
  KEY_RUNS,
  KEY_WORKFLOW_VERSIONS,
  KEY_WORKFLOWS,
} from "./keys.ts";
import { type RunToSave, type StoredRunSummary, writeRuns } from "./runs.ts";
import type { AuditEntry, RunRecord, StoredWorkflow, WorkflowVersion } from "./types.ts";
import {
  workflowKey,
  workflowNameKey,
  WORKFLOWS_REVISION_KEY,
  workflowTriggerKey,
  workflowVersionKey,
} from "./workflows.ts";

/** The `type` of a backup's first line. */
export const BACKUP_HEADER_TYPE = "flowgate-backup";
/** The backup format version this code writes and reads. */
export const BACKUP_FORMAT_VERSION = 1;
/** Runs restored per group commit. */
const RESTORE_RUN_BATCH = 20;

/** How many records of each type a backup holds or a restore wrote. */
export interface BackupCounts {
  workflows: number;
  "workflow_versions": number;
  runs: number;
  approvals: number;
  audit: number;
}

/** One line of a backup. */
export type BackupLine =
  | { type: typeof BACKUP_HEADER_TYPE; format_version: number; created_at: string }
  | { type: "workflow"; workflow: StoredWorkflow }
  | { type: "workflow_version"; version: WorkflowVersion }
  | { type: "run"; run: RunRecord; input: unknown; expires_at: string }
  | { type: "approval"; key: unknown[]; value: unknown }
  | { type: "audit"; entry: AuditEntry }
  | { type: "end"; counts: BackupCounts };

/** A file that is not a Flowgate backup, or a line that does not parse. */
export class BackupFormatError extends SyntaxError {
  /** 1-based line number where reading failed. */
  line: number;

  /** Builds the error for line `line`. */
  constructor(message: string, line: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "BackupFormatError";
    this.line = line;
  }
}

/** Yields the backup of `kv` as JSON lines (without newlines): header, records, then an end line. */
export async function* exportBackup(
  kv: Deno.Kv,
  options: { now?: Date } = {},
): AsyncGenerator<string> {
  const now = options.now ?? new Date();
  const counts: BackupCounts = {
    workflows: 0,
    "workflow_versions": 0,
    runs: 0,
    approvals: 0,
    audit: 0,
  };
  yield line({
    type: BACKUP_HEADER_TYPE,
    format_version: BACKUP_FORMAT_VERSION,
    created_at: now.toISOString(),
  });
  for await (const entry of kv.list<StoredWorkflow>({ prefix: [KEY_WORKFLOWS] })) {
    counts.workflows++;
    yield line({ type: "workflow", workflow: entry.value });
  }
  for await (const entry of kv.list<WorkflowVersion>({ prefix: [KEY_WORKFLOW_VERSIONS] })) {
    counts.workflow_versions++;
    yield line({ type: "workflow_version", version: entry.value });
  }
  for await (const entry of kv.list<StoredRunSummary>({ prefix: [KEY_RUNS] })) {
    const summary = entry.value;
    if (Date.parse(summary.expires_at) <= now.getTime()) continue;
    const trace = await readChunks(kv, [KEY_RUN_TRACES, summary.id], summary.trace_chunks);
    const input = await readChunks(kv, [KEY_RUN_INPUTS, summary.input_hash], summary.input_chunks);
    if (!trace || !input) continue;
    const {
      trace_chunks: _traceChunks,
      trace_bytes: _traceBytes,
      input_chunks: _inputChunks,
      input_bytes: _inputBytes,
      expires_at: expiresAt,
      ...rest
    } = summary;
    const run: RunRecord = { ...rest, trace: decodeJson(trace) as TraceEntry[] };
    counts.runs++;
    yield line({ type: "run", run, input: decodeJson(input), expires_at: expiresAt });
  }
  for await (const entry of kv.list({ prefix: [KEY_APPROVALS] })) {
    counts.approvals++;
    yield line({
      type: "approval",
      key: entry.key.map(encodeKvValue),
      value: encodeKvValue(entry.value),
    });
  }
  for await (const entry of kv.list<AuditEntry>({ prefix: [KEY_AUDIT] })) {
    counts.audit++;
    yield line({ type: "audit", entry: entry.value });
  }
  yield line({ type: "end", counts });
}

/**
 * Restores a backup from its lines into `kv`. Idempotent: restoring the same backup twice leaves
 * the same store. Runs and audit entries past their retention are skipped.
 *
 * @throws {BackupFormatError} when the input is not a Flowgate backup or a line is malformed.
 * @throws {ConflictError} when a restored workflow's name belongs to another workflow.
 */
export async function importBackup(
  kv: Deno.Kv,
  lines: AsyncIterable<string> | Iterable<string>,
  options: { now?: Date } = {},
): Promise<BackupCounts> {
  const now = (options.now ?? new Date()).getTime();
  const counts: BackupCounts = {
    workflows: 0,
    "workflow_versions": 0,
    runs: 0,
    approvals: 0,
    audit: 0,
  };
  let runs: (RunToSave & { expiresAt: string })[] = [];
  let lineNumber = 0;
  let ended = false;
  for await (const text of lines) {
    lineNumber++;
    if (text.trim() === "") continue;
    const record = parseLine(text, lineNumber);
    if (lineNumber === 1) {
      if (record?.type !== BACKUP_HEADER_TYPE) throw notBackup(lineNumber);
      if (record.format_version !== BACKUP_FORMAT_VERSION) {
        throw new BackupFormatError(
          `Cannot restore: backup format version "${record.format_version}" is not supported (expected ${BACKUP_FORMAT_VERSION})`,
          lineNumber,
        );
      }
      continue;
    }
    if (ended) {
      throw new BackupFormatError(
        `Cannot restore: line ${lineNumber} follows the end line`,
        lineNumber,
      );
    }
    switch (record?.type) {
      case "workflow":
        await restoreWorkflow(kv, record.workflow);
        counts.workflows++;
        break;
      case "workflow_version":
        await kv.set(
          workflowVersionKey(record.version.workflow_id, record.version.version),
          record.version,
        );
        counts.workflow_versions++;
        break;
      case "run":
        runs.push({ run: record.run, input: record.input, expiresAt: record.expires_at });
        if (Date.parse(record.expires_at) > now) counts.runs++;
        if (runs.length >= RESTORE_RUN_BATCH) {
          await writeRuns(kv, runs, { now });
          runs = [];
        }
        break;
      case "approval":
        await kv.set(record.key.map(decodeKvValue) as Deno.KvKey, decodeKvValue(record.value));
        counts.approvals++;
        break;
      case "audit":
        if (await writeAudit(kv, record.entry, { now })) counts.audit++;
        break;
      case "end":
        ended = true;
        break;
      default:
        throw new BackupFormatError(
          `Cannot restore: line ${lineNumber} has unknown type "${String(record?.type)}"`,
          lineNumber,
        );
    }
  }
  if (lineNumber === 0) throw notBackup(1);
  await writeRuns(kv, runs, { now });
  if (!ended) {
    throw new BackupFormatError(
      `Cannot restore: the backup is truncated (no end line after line ${lineNumber}); the records read so far were restored`,
      lineNumber,
    );
  }
  return counts;
}

/** Restores one workflow and its indexes; unchanged workflows are not rewritten. */
async function restoreWorkflow(kv: Deno.Kv, workflow: StoredWorkflow): Promise<void> {
  const [existing, owner] = await kv.getMany<[StoredWorkflow, string]>([
    workflowKey(workflow.id),
    workflowNameKey(workflow.name),
  ]);
  if (owner.value && owner.value !== workflow.id) {
    throw new ConflictError(
      `Cannot restore workflow "${workflow.name}": another workflow ("${owner.value}") has that name`,
    );
  }
  if (isDeepStrictEqual(existing.value, workflow)) return;
  const op = kv.atomic().check(existing).check(owner);
  if (existing.value) {
    const oldTriggerKey = workflowTriggerKey(existing.value);
    if (oldTriggerKey) op.delete(oldTriggerKey);
    op.delete(workflowNameKey(existing.value.name));
  }
  const triggerKey = workflowTriggerKey(workflow);
  if (triggerKey) op.set(triggerKey, workflow.id);
  const result = await op
    .set(workflowKey(workflow.id), workflow)
    .set(workflowNameKey(workflow.name), workflow.id)
    .sum(WORKFLOWS_REVISION_KEY, 1n)
    .commit();
  if (!result.ok) {
    throw new ConflictError(
      `Cannot restore workflow "${workflow.name}": it changed during the restore`,
    );
  }
}

function line(record: BackupLine): string {
  return JSON.stringify(record);
}

function parseLine(text: string, lineNumber: number): BackupLine | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value)
      ? value as BackupLine
      : undefined;
  } catch (cause) {
    if (lineNumber === 1) throw notBackup(lineNumber, cause);
    throw new BackupFormatError(`Cannot restore: line ${lineNumber} is not JSON`, lineNumber, {
      cause,
    });
  }
}

function notBackup(lineNumber: number, cause?: unknown): BackupFormatError {
  return new BackupFormatError(
    `Cannot restore: the file is not a Flowgate backup (the first line must be a "${BACKUP_HEADER_TYPE}" header)`,
    lineNumber,
    cause === undefined ? undefined : { cause },
  );
}

/** Tag of values JSON cannot carry (bytes, bigints, KvU64, dates) in approval keys and values. */
const TAG = "$flowgate";

/** Turns a KV key part or value into JSON-safe data, tagging bytes, bigints, KvU64 and dates. */
export function encodeKvValue(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    return { [TAG]: "bytes", value: btoa(String.fromCharCode(...value)) };
  }
  if (typeof value === "bigint") return { [TAG]: "bigint", value: value.toString() };
  if (value instanceof Deno.KvU64) return { [TAG]: "u64", value: value.value.toString() };
  if (value instanceof Date) return { [TAG]: "date", value: value.toISOString() };
  if (Array.isArray(value)) return value.map(encodeKvValue);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeKvValue(v)]));
  }
  return value;
}

/** Reverses `encodeKvValue`. */
export function decodeKvValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeKvValue);
  if (!value || typeof value !== "object") return value;
  const tagged = value as { [TAG]?: string; value?: string };
  const raw = tagged.value ?? "";
  switch (tagged[TAG]) {
    case "bytes":
      return Uint8Array.from(atob(raw), (char) => char.charCodeAt(0));
    case "bigint":
      return BigInt(raw);
    case "u64":
      return new Deno.KvU64(BigInt(raw));
    case "date":
      return new Date(raw);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeKvValue(v)]));
}
