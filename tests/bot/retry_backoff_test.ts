import assert from "node:assert/strict";
import { createRetryBackoff } from "../../bot/retry_backoff.ts";

Deno.test("retry backoff: each pause doubles the next up to the maximum, reset goes back to the first", async () => {
  const backoff = createRetryBackoff({ first: 1, max: 5 });
  const seen: number[] = [];
  for (let i = 0; i < 5; i++) {
    seen.push(backoff.delayMs());
    await backoff.pause();
  }
  assert.deepEqual(seen, [1, 2, 4, 5, 5]);
  backoff.reset();
  assert.equal(backoff.delayMs(), 1);
});

Deno.test("retry backoff: interrupt ends a long pause at once and leaves no timer behind", async () => {
  const backoff = createRetryBackoff({ first: 3_600_000, max: 3_600_000 });
  const paused = backoff.pause();
  backoff.interrupt();
  // Deno's leak check fails this test if the hour-long timer were still pending.
  await paused;
  backoff.interrupt();
});
