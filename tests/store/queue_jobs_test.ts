import assert from "node:assert/strict";
import {
  deleteJob,
  enqueueJob,
  getJob,
  isWorkDone,
  type JobMessage,
  markWorkDone,
} from "../../store/queue_jobs.ts";

Deno.test("enqueueJob() stores a payload bigger than a commit and its message names it", async () => {
  using kv = await Deno.openKv(":memory:");
  const received: JobMessage[] = [];
  const listener = kv.listenQueue((message) => {
    received.push(message as JobMessage);
  });
  const payload = { data: "d".repeat(2_000_000), nested: { ok: true } };
  const id = await enqueueJob(kv, { kind: "deferred", payload });
  const deadline = Date.now() + 5_000;
  while (received.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.deepEqual(received, [{ type: "job", job_id: id, kind: "deferred" }]);
  const job = await getJob(kv, id);
  assert.equal(job?.job.kind, "deferred");
  assert.deepEqual(job?.payload, payload);
  await deleteJob(kv, id);
  assert.equal(await getJob(kv, id), null);
  kv.close();
  await listener;
});

Deno.test("markWorkDone() lets exactly one caller mark a piece of work", async () => {
  using kv = await Deno.openKv(":memory:");
  assert.equal(await isWorkDone(kv, "job:1"), false);
  const marks = await Promise.all([markWorkDone(kv, "job:1"), markWorkDone(kv, "job:1")]);
  assert.deepEqual(marks.sort(), [false, true]);
  assert.equal(await markWorkDone(kv, "job:1"), false);
  assert.equal(await isWorkDone(kv, "job:1"), true);
});
