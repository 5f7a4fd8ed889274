import assert from "node:assert/strict";
import { ConflictError } from "../../store/errors.ts";
import {
  listRunAttempts,
  outcomeOfAttempts,
  recordRunAttempt,
  settleRunOutcome,
} from "../../store/run_attempts.ts";
import { getRun, getRunSummary, listRuns, saveRun } from "../../store/runs.ts";
import type { RunAttempt } from "../../store/types.ts";
import { makeRun } from "./fixtures.ts";

const RETENTION = { retentionDays: 14 };

function attempt(n: number, node: string, result: Partial<RunAttempt> = {}): RunAttempt {
  return {
    attempt: n,
    "node_id": node,
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    ok: false,
    error: "Sink answered 503",
    "next_try_at": new Date(Date.UTC(2026, 0, 1, 0, 1, n)).toISOString(),
    ...result,
  };
}

Deno.test("outcomeOfAttempts() settles on each action's latest attempt", async (t) => {
  const gaveUp = { "next_try_at": undefined };
  const cases: [string, RunAttempt[], string | null][] = [
    ["no attempts", [], null],
    ["a retry due", [attempt(1, "a")], "retrying"],
    ["the retry succeeded", [attempt(1, "a"), attempt(2, "a", { ok: true })], "success"],
    ["the last attempt gave up", [attempt(1, "a"), attempt(2, "a", gaveUp)], "failure"],
    ["one action done, one due", [attempt(2, "a", { ok: true }), attempt(1, "b")], "retrying"],
    ["one action gave up", [attempt(2, "a", gaveUp), attempt(1, "b")], "failure"],
    [
      "order of records does not matter",
      [attempt(2, "a", { ok: true }), attempt(1, "a")],
      "success",
    ],
  ];
  for (const [label, attempts, expected] of cases) {
    await t.step(label, () => {
      const cleaned = attempts.map((a) => JSON.parse(JSON.stringify(a)) as RunAttempt);
      assert.equal(outcomeOfAttempts(cleaned), expected);
    });
  }
});

Deno.test("settleRunOutcome() rewrites the summary and moves the outcome index entry", async () => {
  using kv = await Deno.openKv(":memory:");
  const run = makeRun({ outcome: "retrying" });
  await saveRun(kv, run, { input: {}, ...RETENTION });
  await recordRunAttempt(kv, run.id, attempt(1, "send"), RETENTION);
  assert.equal(await settleRunOutcome(kv, run.id), "retrying");

  await recordRunAttempt(kv, run.id, attempt(2, "send", { error: "x".repeat(10_000) }), RETENTION);
  await recordRunAttempt(
    kv,
    run.id,
    JSON.parse(JSON.stringify(attempt(3, "send", { "next_try_at": undefined }))),
    RETENTION,
  );
  assert.equal(await settleRunOutcome(kv, run.id), "failure");
  const summary = await getRunSummary(kv, run.id);
  assert.equal(summary?.outcome, "failure");
  assert.equal(summary?.success, false);
  assert.deepEqual((await listRuns(kv, { outcome: "retrying" })).items, []);
  assert.deepEqual((await listRuns(kv, { outcome: "failure" })).items.map((r) => r.id), [run.id]);

  const read = await getRun(kv, run.id);
  assert.deepEqual(read?.attempts?.map((a) => a.attempt), [1, 2, 3]);
  assert.match(read?.attempts?.[1]?.error ?? "", /… \[cut: 5,904 more characters\]$/);
  assert.deepEqual(await listRunAttempts(kv, run.id), read?.attempts);
});

Deno.test("settleRunOutcome() leaves runs their walk blocked or failed, and missing runs", async () => {
  using kv = await Deno.openKv(":memory:");
  const blocked = makeRun({ outcome: "blocked", success: false });
  await saveRun(kv, blocked, { input: {}, ...RETENTION });
  await recordRunAttempt(kv, blocked.id, attempt(2, "send", { ok: true }), RETENTION);
  assert.equal(await settleRunOutcome(kv, blocked.id), "blocked");
  assert.equal(await settleRunOutcome(kv, "01ARZ3NDEKTSV4RRFFQ69G5FAV"), null);
});

Deno.test("settleRunOutcome() gives up with a ConflictError when the summary keeps changing", async () => {
  using kv = await Deno.openKv(":memory:");
  const run = makeRun({ outcome: "retrying" });
  await saveRun(kv, run, { input: {}, ...RETENTION });
  await recordRunAttempt(kv, run.id, attempt(2, "send", { ok: true }), RETENTION);
  // Every commit is refused, as if another writer always got there first.
  const racing = new Proxy(kv, {
    get(target, property) {
      if (property === "atomic") {
        return () => {
          const op = target.atomic();
          op.check({ key: ["runs", run.id], versionstamp: "00000000000000000000" });
          return op;
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  await assert.rejects(() => settleRunOutcome(racing, run.id), ConflictError);
  assert.equal((await getRunSummary(kv, run.id))?.outcome, "retrying");
});
