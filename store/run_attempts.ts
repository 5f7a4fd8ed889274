/**
 * Attempts of a run's failed non-blocking actions: the run itself is attempt 1, each queue retry
 * the next. They are recorded in the run's history, never as runs of their own, and settle the
 * run's outcome: `retrying` while one is due, then `success` or `failure`.
 *
 * @module
 */

import type { Outcome } from "../engine/model.ts";
import { cutText } from "./cut_text.ts";
import { ConflictError } from "./errors.ts";
import {
  DAY_MS,
  DEFAULT_RUN_RETENTION_DAYS,
  KEY_RUN_ATTEMPTS,
  KEY_RUNS,
  KEY_RUNS_BY_OUTCOME,
  MAX_RUN_ATTEMPT_ERROR_CHARS,
  MAX_WRITE_ATTEMPTS,
} from "./keys.ts";
import type { StoredRunSummary } from "./runs.ts";
import type { RunAttempt } from "./types.ts";

/** Most attempts `listRunAttempts` reads for one run. */
const MAX_LISTED_ATTEMPTS = 1_000;

/** The outcomes attempts may change: a run blocked or failed by its walk keeps its outcome. */
const SETTLED_FROM = new Set<Outcome>(["retrying", "success"]);

/** Options of `recordRunAttempt`. */
export interface RecordRunAttemptOptions {
  /** Days to keep the attempt, as the run (`FLOWGATE_RETENTION_DAYS`, default 14). */
  retentionDays?: number;
}

/** Records one attempt of a run's action (its error cut to `MAX_RUN_ATTEMPT_ERROR_CHARS`). */
export async function recordRunAttempt(
  kv: Deno.Kv,
  runId: string,
  attempt: RunAttempt,
  options: RecordRunAttemptOptions = {},
): Promise<void> {
  const stored: RunAttempt = attempt.error === undefined
    ? attempt
    : { ...attempt, error: cutText(attempt.error, MAX_RUN_ATTEMPT_ERROR_CHARS) };
  const expireIn = (options.retentionDays ?? DEFAULT_RUN_RETENTION_DAYS) * DAY_MS;
  await kv.set([KEY_RUN_ATTEMPTS, runId, attempt.node_id, attempt.attempt], stored, { expireIn });
}

/** A run's attempts, oldest first (empty when it had no retries). */
export async function listRunAttempts(kv: Deno.Kv, runId: string): Promise<RunAttempt[]> {
  const attempts: RunAttempt[] = [];
  const entries = kv.list<RunAttempt>({ prefix: [KEY_RUN_ATTEMPTS, runId] }, {
    limit: MAX_LISTED_ATTEMPTS,
  });
  for await (const entry of entries) attempts.push(entry.value);
  return attempts.sort((a, b) => a.at.localeCompare(b.at) || a.attempt - b.attempt);
}

/**
 * The outcome attempts give a run: `failure` when an action's last attempt failed with no next
 * one due, `retrying` while one is due, else `success`; null without attempts.
 */
export function outcomeOfAttempts(attempts: RunAttempt[]): Outcome | null {
  const latest = new Map<string, RunAttempt>();
  for (const attempt of attempts) {
    const known = latest.get(attempt.node_id);
    if (!known || known.attempt < attempt.attempt) latest.set(attempt.node_id, attempt);
  }
  if (latest.size === 0) return null;
  const last = [...latest.values()];
  if (last.some((attempt) => !attempt.ok && attempt.next_try_at === undefined)) return "failure";
  if (last.some((attempt) => !attempt.ok)) return "retrying";
  return "success";
}

/**
 * Sets a run's outcome from its attempts, rewriting its summary and moving its `runs_by_outcome`
 * entry in one commit checked against the summary's versionstamp. Runs blocked or failed by their
 * walk keep their outcome.
 *
 * @returns the run's outcome afterwards, or null when the run is not stored (yet, or any more)
 * @throws {ConflictError} when the summary kept changing concurrently
 */
export async function settleRunOutcome(kv: Deno.Kv, runId: string): Promise<Outcome | null> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const entry = await kv.get<StoredRunSummary>([KEY_RUNS, runId]);
    const summary = entry.value;
    if (summary === null) return null;
    if (!SETTLED_FROM.has(summary.outcome)) return summary.outcome;
    // Read after the summary: a concurrent settle that commits first changes its versionstamp.
    const outcome = outcomeOfAttempts(await listRunAttempts(kv, runId));
    if (outcome === null || outcome === summary.outcome) return summary.outcome;
    const expireIn = Date.parse(summary.expires_at) - Date.now();
    if (!(expireIn > 0)) return null;
    const next: StoredRunSummary = { ...summary, outcome, success: outcome !== "failure" };
    const result = await kv.atomic()
      .check(entry)
      .set([KEY_RUNS, runId], next, { expireIn })
      .delete([KEY_RUNS_BY_OUTCOME, summary.outcome, runId])
      .set([KEY_RUNS_BY_OUTCOME, outcome, runId], null, { expireIn })
      .commit();
    if (result.ok) return outcome;
  }
  throw new ConflictError(
    `Cannot settle the outcome of run "${runId}": its summary kept changing concurrently ` +
      `(${MAX_WRITE_ATTEMPTS} attempts)`,
  );
}
