import assert from "node:assert/strict";
import { GroupCommitter } from "../../services/group_commit.ts";

Deno.test("GroupCommitter batches what arrives while a commit is in flight", async () => {
  const batches: number[][] = [];
  let release: () => void = () => {};
  const committer = new GroupCommitter<number, string>(async (items) => {
    batches.push(items);
    if (batches.length === 1) await new Promise<void>((resolve) => release = resolve);
    return items.map((item) => `ok ${item}`);
  }, 3);
  const first = committer.submit(1);
  await Promise.resolve();
  const rest = [2, 3, 4, 5].map((item) => committer.submit(item));
  release();
  assert.deepEqual(await Promise.all([first, ...rest]), ["ok 1", "ok 2", "ok 3", "ok 4", "ok 5"]);
  assert.deepEqual(batches, [[1], [2, 3, 4], [5]]);
});

Deno.test("GroupCommitter rejects every caller of a failed batch and goes on", async () => {
  let calls = 0;
  const committer = new GroupCommitter<number, number>((items) => {
    calls++;
    if (calls === 1) return Promise.reject(new Error("Disk full"));
    return Promise.resolve(items);
  }, 10);
  const failed = [committer.submit(1), committer.submit(2)];
  for (const result of await Promise.allSettled(failed)) assert.equal(result.status, "rejected");
  assert.equal(await committer.submit(3), 3);
});
