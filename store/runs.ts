/**
 * Run repository: runs with chunked traces and content-addressed chunked inputs, indexes by
 * workflow, trigger, outcome, event and time, group commits, retention and cursor paging. No run
 * is refused for its size: oversized summary fields are cut with a marker (`fitRunSummary`), the
 * whole error list then kept chunked under `run_errors`.
 *
 * @module
 */

import { encodeTime } from "ulid";
import type { Outcome, TraceEntry } from "../engine/model.ts";
import { decodeJson, encodeJson, readChunks, sha256Hex, splitChunks } from "./chunks.ts";
import { commitPlanned, type CommitUnit, planCommits, type PlannedSet } from "./commit_plan.ts";
import { fitRunSummary } from "./fit_run_summary.ts";
import { getManySliced } from "./get_many.ts";
import { listRunAttempts } from "./run_attempts.ts";
import {
  DAY_MS,
  DEFAULT_PAGE_SIZE,
  DEFAULT_RUN_RETENTION_DAYS,
  KEY_RUN_ERRORS,
  KEY_RUN_INPUTS,
  KEY_RUN_TRACES,
  KEY_RUNS,
  KEY_RUNS_BY_EVENT,
  KEY_RUNS_BY_EVENT_ID,
  KEY_RUNS_BY_OUTCOME,
  KEY_RUNS_BY_TRIGGER,
  KEY_RUNS_BY_WORKFLOW,
  MAX_GET_MANY_KEYS,
  MAX_INDEX_KEY_PART_BYTES,
  MAX_LIST_SCAN,
  MAX_PAGE_SIZE,
} from "./keys.ts";
import type { Page, RunRecord } from "./types.ts";

/**
 * A run summary as stored under `["runs", id]`: the record without its trace and attempts, its
 * long fields cut (see `fitRunSummary`), plus chunk counts.
 */
export interface StoredRunSummary extends Omit<RunRecord, "trace" | "attempts"> {
  /** Chunks of the whole `errors` under `run_errors`, present when the summary holds them cut. */
  "errors_chunks"?: number;
  "trace_chunks": number;
  "trace_bytes": number;
  "input_chunks": number;
  "input_bytes": number;
  /** ISO time after which readers treat the run as gone, whether or not KV purged it yet. */
  "expires_at": string;
}

/** Options of `saveRun` and `saveRuns`. */
export interface SaveRunsOptions {
  /** Days to keep the run, its trace and input (`FLOWGATE_RETENTION_DAYS`, default 14). */
  retentionDays?: number;
  /** Clock, for tests. */
  now?: Date;
}

/** Options of `saveRun`. */
export interface SaveRunOptions extends SaveRunsOptions {
  /** The exact input the run saw; stored once per distinct content. */
  input: unknown;
  /** The input's JSON exactly as received (text or UTF-8 bytes), which spares re-serialising it. */
  inputJson?: string | Uint8Array;
}

/** Options of the run readers. */
export interface ReadRunOptions {
  /** Clock, for tests: runs past their `expires_at` at this time are not returned. */
  now?: Date;
}

/** Filters and paging of `listRuns`. */
export interface ListRunsOptions extends ReadRunOptions {
  workflowId?: string;
  trigger?: string;
  outcome?: Outcome;
  eventUuid?: string;
  /** MISP's numeric id of the event (ids are per MISP instance; the uuid is global). */
  eventId?: string;
  /** Runs started at or after this time (by the time part of the run's ULID). */
  since?: Date | string;
  /** Runs started at or before this time (by the time part of the run's ULID). */
  until?: Date | string;
  /** Page size, default 50, at most 500. */
  limit?: number;
  /** The `cursor` of the previous page, with the same filters. */
  cursor?: string;
}

/** A run to save with its input, for `saveRuns` and restores. */
export interface RunToSave {
  run: RunRecord;
  input: unknown;
  /**
   * The input's JSON exactly as received (text or UTF-8 bytes); when given, stored and hashed as
   * is instead of `input`'s JSON, which spares re-serialising a large event.
   */
  inputJson?: string | Uint8Array;
  /**
   * The SHA-256 hex of `inputJson`, when the caller already has it or started it (the verdict
   * path hashes a request's bytes off the JavaScript thread while it parses them). Ignored
   * without `inputJson`.
   */
  inputJsonHash?: string | Promise<string>;
  /**
   * Other sets committed atomically with the run's summary, sparing their own commit: the queue's
   * mark that the intake the run came from is done.
   */
  alsoSet?: PlannedSet[];
}

/**
 * How much longer than the newest run that uses it a stored input is kept. A content-addressed
 * input is rewritten (the only way to renew a KV expiry) only when a new run would outlive it,
 * so an input shared by many runs is rewritten at most about once per this window, and never
 * expires before a run that refers to it.
 */
export const INPUT_EXPIRY_SLACK_MS = 3_600_000;

/** Distinct inputs whose last committed expiry is remembered per KV. */
const WRITTEN_INPUTS_CAPACITY = 1_024;

/**
 * Per KV handle, in this process: input hash to the expiry (ms since the epoch, by the real
 * clock KV's `expireIn` counts from) of the chunks last committed for it, least recently used
 * first. Another process writing the same input
 * with a shorter expiry (a restore into a live store) is not seen here.
 */
const writtenInputs = new WeakMap<Deno.Kv, Map<string, number>>();

function storedInputExpiry(kv: Deno.Kv, hash: string): number | undefined {
  const known = writtenInputs.get(kv);
  const expiry = known?.get(hash);
  if (known && expiry !== undefined) {
    known.delete(hash);
    known.set(hash, expiry);
  }
  return expiry;
}

function rememberInputs(kv: Deno.Kv, written: Map<string, number>): void {
  let known = writtenInputs.get(kv);
  if (!known) {
    known = new Map();
    writtenInputs.set(kv, known);
  }
  for (const [hash, expiry] of written) {
    known.delete(hash);
    known.set(hash, expiry);
  }
  for (const hash of known.keys()) {
    if (known.size <= WRITTEN_INPUTS_CAPACITY) break;
    known.delete(hash);
  }
}

/**
 * Saves one run: trace and input chunks, then the summary and its index entries, in one atomic
 * commit when it fits (several, summary last, when the run exceeds one commit).
 */
export async function saveRun(kv: Deno.Kv, run: RunRecord, options: SaveRunOptions): Promise<void> {
  const { input, inputJson } = options;
  await saveRuns(kv, [{ run, input, ...(inputJson === undefined ? {} : { inputJson }) }], options);
}

/**
 * Saves several runs in as few commits as KV's limits allow: the server's group commit. Every
 * run's summary lands in the last commit that touches that run, so readers never see half a run.
 */
export async function saveRuns(
  kv: Deno.Kv,
  runs: RunToSave[],
  options: SaveRunsOptions = {},
): Promise<void> {
  const now = (options.now ?? new Date()).getTime();
  const retentionMs = (options.retentionDays ?? DEFAULT_RUN_RETENTION_DAYS) * DAY_MS;
  const expiresAt = new Date(now + retentionMs).toISOString();
  // Expiry is relative to the real clock: KV's `expireIn` is.
  await writeRuns(kv, runs.map((item) => ({ ...item, expiresAt })));
}

/**
 * Writes runs with an explicit expiry each (restores keep the original one); runs already past
 * it are skipped. An input is written once per call, expiring `INPUT_EXPIRY_SLACK_MS` after the
 * latest run using it, and not at all when this process already committed it with an expiry
 * at least that of every run using it.
 */
export async function writeRuns(
  kv: Deno.Kv,
  runs: (RunToSave & { expiresAt: string })[],
  options: { now?: number } = {},
): Promise<void> {
  const now = options.now ?? Date.now();
  // Runs of one request share one input object: serialise and hash it once.
  const encoded = new Map<unknown, { bytes: Uint8Array; hash: string }>();
  const live: { item: RunToSave; expiresAt: string; input: { bytes: Uint8Array; hash: string } }[] =
    [];
  // Per input, the latest expiry of the runs using it.
  const neededExpiry = new Map<string, number>();
  for (const { expiresAt, ...item } of runs) {
    const runExpiry = Date.parse(expiresAt);
    if (!(runExpiry - now > 0)) continue;
    const { input, inputJson, inputJsonHash } = item;
    const source = inputJson ?? input;
    let encodedInput = encoded.get(source);
    if (!encodedInput) {
      const bytes = inputJson === undefined
        ? encodeJson(input)
        : typeof inputJson === "string"
        ? new TextEncoder().encode(inputJson)
        : inputJson;
      const hash = inputJson !== undefined && inputJsonHash !== undefined
        ? await Promise.resolve(inputJsonHash).catch(() => sha256Hex(bytes))
        : await sha256Hex(bytes);
      encodedInput = { bytes, hash };
      encoded.set(source, encodedInput);
    }
    live.push({ item, expiresAt, input: encodedInput });
    const needed = neededExpiry.get(encodedInput.hash);
    if (needed === undefined || needed < runExpiry) neededExpiry.set(encodedInput.hash, runExpiry);
  }
  // Expiries above are by the caller's clock (`now`); KV counts `expireIn` from the real one.
  const clockShift = Date.now() - now;
  const inputsToWrite = new Map<string, number>();
  for (const [hash, needed] of neededExpiry) {
    const stored = storedInputExpiry(kv, hash);
    if (stored === undefined || stored < needed + clockShift) {
      inputsToWrite.set(hash, needed + INPUT_EXPIRY_SLACK_MS);
    }
  }
  const units: CommitUnit[] = [];
  const inputsPlanned = new Set<string>();
  for (const { item: { run, alsoSet }, expiresAt, input } of live) {
    const { bytes: inputBytes, hash: inputHash } = input;
    const expireIn = Date.parse(expiresAt) - now;
    const inputChunks = splitChunks(inputBytes);
    // Attempts live under their own keys; `errors_chunks` is the store's own (a restored backup
    // line carries it).
    const { trace, attempts: _attempts, errors_chunks: _errorsChunks, ...rest } = run as
      & RunRecord
      & Pick<StoredRunSummary, "errors_chunks">;
    const traceChunks = splitChunks(encodeJson(trace));
    const { summary, errorsCut } = fitRunSummary<StoredRunSummary>({
      ...rest,
      "input_hash": inputHash,
      "trace_chunks": traceChunks.length,
      "trace_bytes": traceChunks.reduce((sum, chunk) => sum + chunk.length, 0),
      "input_chunks": inputChunks.length,
      "input_bytes": inputBytes.length,
      "expires_at": expiresAt,
    });
    traceChunks.forEach((chunk, i) =>
      units.push([{ key: [KEY_RUN_TRACES, run.id, i], value: chunk, expireIn }])
    );
    if (errorsCut) {
      const errorChunks = splitChunks(encodeJson(run.errors));
      summary.errors_chunks = errorChunks.length;
      errorChunks.forEach((chunk, i) =>
        units.push([{ key: [KEY_RUN_ERRORS, run.id, i], value: chunk, expireIn }])
      );
    }
    const inputExpiry = inputsToWrite.get(inputHash);
    if (inputExpiry !== undefined && !inputsPlanned.has(inputHash)) {
      inputsPlanned.add(inputHash);
      inputChunks.forEach((chunk, i) =>
        units.push([{
          key: [KEY_RUN_INPUTS, inputHash, i],
          value: chunk,
          expireIn: inputExpiry - now,
        }])
      );
    }
    units.push([
      ...runIndexKeys(summary, run).map((key) => ({ key, value: null, expireIn })),
      { key: [KEY_RUNS, run.id], value: summary, expireIn },
      ...(alsoSet ?? []),
    ]);
  }
  await commitPlanned(kv, planCommits(units));
  if (inputsToWrite.size > 0) {
    rememberInputs(
      kv,
      new Map([...inputsToWrite].map(([hash, expiry]) => [hash, expiry + clockShift])),
    );
  }
}

/**
 * The index keys of a run (workflow, trigger, outcome, event uuid when known). A value the summary
 * holds cut, or too long for a key, gets no entry: a lookup by the whole value could not match it.
 */
function runIndexKeys(summary: StoredRunSummary, run: RunRecord): Deno.KvKey[] {
  const keys: Deno.KvKey[] = [[KEY_RUNS_BY_OUTCOME, summary.outcome, summary.id]];
  const indexable = (stored: string | undefined, whole: string | undefined) =>
    stored !== undefined && stored !== "" && stored === whole &&
    encoder.encode(stored).length <= MAX_INDEX_KEY_PART_BYTES;
  if (indexable(summary.workflow_id, run.workflow_id)) {
    keys.push([KEY_RUNS_BY_WORKFLOW, summary.workflow_id, summary.id]);
  }
  if (indexable(summary.trigger, run.trigger)) {
    keys.push([KEY_RUNS_BY_TRIGGER, summary.trigger, summary.id]);
  }
  if (indexable(summary.event?.uuid, run.event?.uuid)) {
    keys.push([KEY_RUNS_BY_EVENT, summary.event!.uuid!, summary.id]);
  }
  if (indexable(summary.event?.id, run.event?.id)) {
    keys.push([KEY_RUNS_BY_EVENT_ID, summary.event!.id!, summary.id]);
  }
  return keys;
}

const encoder = new TextEncoder();

/** The stored summary of a run (no trace), or null when missing or past its retention. */
export async function getRunSummary(
  kv: Deno.Kv,
  id: string,
  options: ReadRunOptions = {},
): Promise<StoredRunSummary | null> {
  const summary = (await kv.get<StoredRunSummary>([KEY_RUNS, id])).value;
  return summary && isLive(summary, options.now) ? summary : null;
}

/**
 * The ids among `ids` that have a stored (not expired) run: one read however many ids (the queue
 * asks for all the runs of a batch message at once), sent in parallel `getMany` slices.
 */
export async function storedRunIds(
  kv: Deno.Kv,
  ids: readonly string[],
  options: ReadRunOptions = {},
): Promise<Set<string>> {
  const entries = await getManySliced<StoredRunSummary>(kv, ids.map((id) => [KEY_RUNS, id]));
  const stored = new Set<string>();
  entries.forEach((entry, i) => {
    if (entry.value && isLive(entry.value, options.now)) stored.add(ids[i]!);
  });
  return stored;
}

/**
 * A whole run with its trace, its whole error list (the summary may hold it cut) and its queue
 * attempts, or null when missing, expired or incompletely stored. Event fields stay as the
 * summary holds them (cut with a marker when oversized): the whole event is the run's input.
 */
export async function getRun(
  kv: Deno.Kv,
  id: string,
  options: ReadRunOptions = {},
): Promise<RunRecord | null> {
  const summary = await getRunSummary(kv, id, options);
  if (!summary) return null;
  const [bytes, errorBytes, attempts] = await Promise.all([
    readChunks(kv, [KEY_RUN_TRACES, id], summary.trace_chunks),
    summary.errors_chunks === undefined
      ? null
      : readChunks(kv, [KEY_RUN_ERRORS, id], summary.errors_chunks),
    listRunAttempts(kv, id),
  ]);
  if (!bytes) return null;
  const record = toRecord(summary, decodeJson(bytes) as TraceEntry[]);
  // Missing chunks (expired first): the cut list, with its markers, is still right.
  if (errorBytes) record.errors = decodeJson(errorBytes) as string[];
  if (attempts.length > 0) record.attempts = attempts;
  return record;
}

/** The exact input a run saw, or null when the run or its input is gone. */
export async function getRunInput(
  kv: Deno.Kv,
  id: string,
  options: ReadRunOptions = {},
): Promise<unknown | null> {
  const summary = await getRunSummary(kv, id, options);
  if (!summary) return null;
  const bytes = await readChunks(kv, [KEY_RUN_INPUTS, summary.input_hash], summary.input_chunks);
  return bytes ? decodeJson(bytes) : null;
}

/**
 * Runs newest first, filtered, as summaries (`trace` is empty: `getRun` has it). Uses the most
 * selective index for the filters given and checks the others on each summary.
 */
export async function listRuns(
  kv: Deno.Kv,
  options: ListRunsOptions = {},
): Promise<Page<RunRecord>> {
  const page = await listRunSummaries(kv, options);
  return {
    items: page.items.map((summary) => toRecord(summary, [])),
    ...(page.cursor ? { cursor: page.cursor } : {}),
  };
}

/** Like `listRuns`, returning the stored summaries with their chunk counts and expiry. */
export async function listRunSummaries(
  kv: Deno.Kv,
  options: ListRunsOptions = {},
): Promise<Page<StoredRunSummary>> {
  const limit = Math.min(Math.max(1, options.limit ?? DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
  const prefix = indexPrefix(options);
  // Values this long are never indexed (see `runIndexKeys`), and too long to read a key with.
  if (prefix.some((part) => encoder.encode(String(part)).length > MAX_INDEX_KEY_PART_BYTES)) {
    return { items: [] };
  }
  const selector = rangeSelector(prefix, options);
  const primary = prefix.length === 1;
  const entries = kv.list<StoredRunSummary | null>(selector, {
    reverse: true,
    ...(options.cursor ? { cursor: options.cursor } : {}),
    batchSize: Math.min(limit + 1, MAX_PAGE_SIZE),
  });
  const items: StoredRunSummary[] = [];
  let pending: { id: string; cursor: string; summary?: StoredRunSummary }[] = [];
  let scanned = 0;
  let lastCursor: string | undefined;
  // Resolves pending index entries in order; returns the cursor to stop at once the page is full.
  const flush = async (): Promise<string | undefined> => {
    const missing = pending.filter((item) => !item.summary);
    for (let i = 0; i < missing.length; i += MAX_GET_MANY_KEYS) {
      const batch = missing.slice(i, i + MAX_GET_MANY_KEYS);
      const found = await kv.getMany<StoredRunSummary[]>(batch.map((item) => [KEY_RUNS, item.id]));
      batch.forEach((item, j) => {
        const value = found[j]?.value;
        if (value) item.summary = value;
      });
    }
    for (const item of pending) {
      if (item.summary && matches(item.summary, options)) items.push(item.summary);
      if (items.length === limit) return item.cursor;
    }
    pending = [];
    return undefined;
  };
  for await (const entry of entries) {
    const id = entry.key.at(-1) as string;
    lastCursor = entries.cursor;
    pending.push({
      id,
      cursor: lastCursor,
      ...(primary && entry.value ? { summary: entry.value } : {}),
    });
    scanned++;
    if (
      pending.length >= MAX_GET_MANY_KEYS || (primary && pending.length >= limit - items.length)
    ) {
      const stop = await flush();
      if (stop) return { items, cursor: stop };
      if (scanned >= MAX_LIST_SCAN) return { items, cursor: lastCursor };
    }
  }
  const stop = await flush();
  return stop ? { items, cursor: stop } : { items };
}

function indexPrefix(options: ListRunsOptions): Deno.KvKey {
  if (options.eventUuid !== undefined) return [KEY_RUNS_BY_EVENT, options.eventUuid];
  if (options.eventId !== undefined) return [KEY_RUNS_BY_EVENT_ID, options.eventId];
  if (options.workflowId !== undefined) return [KEY_RUNS_BY_WORKFLOW, options.workflowId];
  if (options.outcome !== undefined) return [KEY_RUNS_BY_OUTCOME, options.outcome];
  if (options.trigger !== undefined) return [KEY_RUNS_BY_TRIGGER, options.trigger];
  return [KEY_RUNS];
}

/** A prefix selector, or a ULID range under the prefix when `since` or `until` is given. */
function rangeSelector(prefix: Deno.KvKey, options: ListRunsOptions): Deno.KvListSelector {
  if (options.since === undefined && options.until === undefined) return { prefix };
  const start = options.since === undefined ? "" : ulidFloor(new Date(options.since).getTime());
  // "~" sorts after every ULID character, so it closes an open-ended range.
  const end = options.until === undefined ? "~" : ulidFloor(new Date(options.until).getTime() + 1);
  return { start: [...prefix, start], end: [...prefix, end] };
}

/** The smallest ULID of millisecond `ms`. */
function ulidFloor(ms: number): string {
  return encodeTime(Math.max(0, ms), 10) + "0".repeat(16);
}

function matches(summary: StoredRunSummary, options: ListRunsOptions): boolean {
  return isLive(summary, options.now) &&
    (options.workflowId === undefined || summary.workflow_id === options.workflowId) &&
    (options.trigger === undefined || summary.trigger === options.trigger) &&
    (options.outcome === undefined || summary.outcome === options.outcome) &&
    (options.eventUuid === undefined || summary.event?.uuid === options.eventUuid) &&
    (options.eventId === undefined || summary.event?.id === options.eventId);
}

function isLive(summary: StoredRunSummary, now: Date = new Date()): boolean {
  return Date.parse(summary.expires_at) > now.getTime();
}

function toRecord(summary: StoredRunSummary, trace: TraceEntry[]): RunRecord {
  const {
    errors_chunks: _errorsChunks,
    trace_chunks: _traceChunks,
    trace_bytes: _traceBytes,
    input_chunks: _inputChunks,
    input_bytes: _inputBytes,
    expires_at: _expiresAt,
    ...record
  } = summary;
  return { ...record, trace };
}
