import assert from "node:assert/strict";
import { type CommitUnit, planCommits } from "../../store/commit_plan.ts";
import { MAX_COMMIT_BYTES, MAX_COMMIT_MUTATIONS } from "../../store/keys.ts";

Deno.test("planCommits() keeps units whole, in order, and under KV's commit limits", async (t) => {
  await t.step("byte limit: 60 KB chunks split across commits, summary in the last", () => {
    const chunk = new Uint8Array(60_000);
    const units: CommitUnit[] = Array.from(
      { length: 30 },
      (_, i) => [{ key: ["c", i], value: chunk }],
    );
    units.push([{ key: ["idx", "a"], value: null }, { key: ["summary"], value: { ok: true } }]);
    const commits = planCommits(units);
    assert.ok(commits.length >= 3);
    for (const commit of commits) {
      const bytes = commit.reduce(
        (sum, set) => sum + (set.value instanceof Uint8Array ? set.value.length : 64),
        0,
      );
      assert.ok(bytes < MAX_COMMIT_BYTES, `${bytes} bytes in one commit`);
    }
    assert.deepEqual(commits.flat().map((set) => set.key), units.flat().map((set) => set.key));
    const last = commits.at(-1)!;
    assert.deepEqual(last.slice(-2).map((set) => set.key), [["idx", "a"], ["summary"]]);
  });
  await t.step("mutation limit: small units fill commits up to 1,000 mutations", () => {
    const units: CommitUnit[] = Array.from(
      { length: 1_500 },
      (_, i) => [{ key: ["k", i], value: i }],
    );
    const commits = planCommits(units);
    assert.deepEqual(commits.map((commit) => commit.length), [MAX_COMMIT_MUTATIONS, 500]);
  });
  await t.step("a unit is never split", () => {
    const unit = Array.from({ length: 6 }, (_, i) => ({ key: ["u", i], value: i }));
    const units: CommitUnit[] = [
      ...Array.from({ length: 997 }, (_, i) => [{ key: ["k", i], value: i }]),
      unit,
    ];
    const commits = planCommits(units);
    assert.deepEqual(commits.map((commit) => commit.length), [997, 6]);
  });
});
