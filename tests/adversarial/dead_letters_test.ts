/**
 * Adversarial: dead letters retried over and over, at once, from the API and the console, and
 * with ids no dead letter can have. One retry queues the work once; every other answer is a 4xx.
 */

import assert from "node:assert/strict";
import { addDeadLetter, listDeadLetters } from "../../store/dead_letters.ts";
import { KEY_QUEUE_JOBS } from "../../store/queue_jobs.ts";
import { startTestApp } from "../server/test_app.ts";
import { ConsoleClient, describeAnswer, readAnswer } from "./harness.ts";

const LONG_ID = "a".repeat(10_000);

/** A dead letter whose retry queues a `deferred` job. */
async function deferredLetter(kv: Deno.Kv): Promise<string> {
  return await addDeadLetter(kv, {
    kind: "deferred",
    payload: { parent_run_id: "01RUN" },
    error: "boom",
    attempts: 1,
  });
}

Deno.test("a dead letter retried 200 times at once, by the API and the console, is queued once", async () => {
  await using test = await startTestApp();
  const browser = new ConsoleClient(test);
  await browser.signIn();
  await browser.page("/dead-letters");
  const id = await deferredLetter(test.kv);
  const answers = await Promise.all(
    Array.from(
      { length: 200 },
      async (_, i) =>
        i % 2 === 0
          ? await readAnswer(await test.admin(`/api/dead-letters/${id}/retry`, { method: "POST" }))
          : await readAnswer(
            await browser.request(`/dead-letters/${id}`, {
              method: "POST",
              headers: { Origin: "http://localhost" },
              body: new URLSearchParams({ _csrf: browser.csrf, do: "retry" }),
            }),
          ),
    ),
  );
  const done = answers.filter((answer) => answer.status === 200 || answer.status === 303);
  const refused = answers.filter((answer) => answer.status === 404);
  assert.equal(done.length, 1, answers.map((answer) => answer.status).join(","));
  assert.equal(refused.length, 199);
  let jobs = 0;
  for await (const _ of test.kv.list({ prefix: [KEY_QUEUE_JOBS] })) jobs++;
  assert.equal(jobs, 1, "the work was queued once");
  assert.equal((await listDeadLetters(test.kv)).items.length, 0);
});

Deno.test("unknown and 10,000-character dead letter ids get a 4xx from the API and the console", async () => {
  await using test = await startTestApp();
  const browser = new ConsoleClient(test);
  await browser.signIn();
  await browser.page("/dead-letters");
  const violations: string[] = [];
  for (const id of ["01J00000000000000000000000", LONG_ID, "%00", "..%2F..%2Fx"]) {
    for (const action of ["retry", "discard"]) {
      const api = await readAnswer(
        action === "retry"
          ? await test.admin(`/api/dead-letters/${id}/retry`, { method: "POST" })
          : await test.admin(`/api/dead-letters/${id}`, { method: "DELETE" }),
      );
      const console = await readAnswer(
        await browser.request(`/dead-letters/${id}`, {
          method: "POST",
          headers: { Origin: "http://localhost" },
          body: new URLSearchParams({ _csrf: browser.csrf, do: action }),
        }),
      );
      for (const [where, answer] of [["API", api], ["console", console]] as const) {
        if (answer.status < 400 || answer.status >= 500) {
          violations.push(
            `${where} ${action} of ${id.slice(0, 30)}: ${
              describeAnswer(answer.status, answer.text)
            }`,
          );
        }
      }
    }
  }
  assert.deepEqual(violations, []);
});
