/**
 * Recovery of webhook intakes whose queue message was in flight when the process died: the KV
 * queue only requeues such a message once its lease expired and its periodic cleanup ran (up to a
 * minute later), so the server sweeps recent intakes and enqueues again those whose runs are
 * missing. Handlers are idempotent (a run whose record exists is not run again), so a message
 * delivered twice this way costs a lookup, not a second run.
 *
 * Added by the server helper (the intake itself is in `store/intake.ts`).
 *
 * @module
 */

import { encodeTime } from "ulid";
import { deadLetterKey } from "./dead_letters.ts";
import { KEY_INTAKES, KEY_RUNS, MAX_GET_MANY_KEYS, QUEUE_BACKOFF_MS } from "./keys.ts";
import type { IntakeMessage, IntakeRecord } from "./types.ts";

/** What a sweep did. */
export interface IntakeSweepReport {
  scanned: number;
  requeued: string[];
}

/**
 * Enqueues again every intake received in `[since, until]` with a run id that has no run record.
 * Ids are ULIDs, so the time range is a key range.
 */
export async function requeueUnfinishedIntakes(
  kv: Deno.Kv,
  options: { since: Date; until: Date },
): Promise<IntakeSweepReport> {
  const report: IntakeSweepReport = { scanned: 0, requeued: [] };
  const entries = kv.list<IntakeRecord>({
    start: [KEY_INTAKES, encodeTime(options.since.getTime(), 10)],
    end: [KEY_INTAKES, encodeTime(options.until.getTime() + 1, 10)],
  });
  for await (const entry of entries) {
    report.scanned++;
    const intake = entry.value;
    if (intake.run_ids.length === 0 || !(await hasMissingRun(kv, intake.run_ids))) continue;
    const message: IntakeMessage = {
      type: "intake",
      intake_id: intake.id,
      trigger: intake.trigger,
      run_ids: intake.run_ids,
    };
    await kv.enqueue(message, {
      keysIfUndelivered: [deadLetterKey(intake.id)],
      backoffSchedule: [...QUEUE_BACKOFF_MS],
    });
    report.requeued.push(intake.id);
  }
  return report;
}

async function hasMissingRun(kv: Deno.Kv, runIds: string[]): Promise<boolean> {
  for (let i = 0; i < runIds.length; i += MAX_GET_MANY_KEYS) {
    const keys = runIds.slice(i, i + MAX_GET_MANY_KEYS).map((id) => [KEY_RUNS, id]);
    const found = await kv.getMany(keys);
    if (found.some((entry) => entry.versionstamp === null)) return true;
  }
  return false;
}
