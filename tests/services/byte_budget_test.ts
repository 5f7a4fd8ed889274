import assert from "node:assert/strict";
import { BudgetWaitTimeoutError, ByteBudget } from "../../services/byte_budget.ts";

/** Resolves once the promise settled or a macrotask passed, telling which. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => done = true, () => done = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return done;
}

Deno.test("ByteBudget admits work while it fits and queues the rest in order", async (t) => {
  const budget = new ByteBudget(100);
  const first = await budget.acquire(60);
  await t.step("work that fits is admitted at once", async () => {
    const second = budget.acquire(40);
    assert.equal(await settled(second), true);
    (await second)();
  });
  const big = budget.acquire(50);
  const small = budget.acquire(10);
  await t.step("work past the budget waits, and later small work waits behind it", async () => {
    assert.equal(await settled(big), false);
    assert.equal(await settled(small), false);
    assert.equal(budget.waiting, 2);
  });
  await t.step("releasing admits the waiting work first come first served", async () => {
    first();
    assert.equal(await settled(big), true);
    assert.equal(await settled(small), true);
    assert.equal(budget.inFlight, 60);
    (await big)();
    (await small)();
    assert.equal(budget.inFlight, 0);
  });
});

Deno.test("ByteBudget runs work larger than the whole budget alone, never refusing it", async () => {
  const budget = new ByteBudget(10);
  const small = await budget.acquire(5);
  const huge = budget.acquire(1_000);
  assert.equal(await settled(huge), false);
  small();
  const release = await huge;
  assert.equal(budget.inFlight, 10);
  const next = budget.acquire(1);
  assert.equal(await settled(next), false);
  release();
  release(); // a second call gives nothing back twice
  (await next)();
  assert.equal(budget.inFlight, 0);
});

Deno.test("ByteBudget refuses a capacity below one byte", () => {
  assert.throws(() => new ByteBudget(0), RangeError);
});

Deno.test("ByteBudget gives up a bounded wait and lets the work behind it in", async () => {
  const budget = new ByteBudget(100);
  const held = await budget.acquire(60);
  const big = budget.acquire(80, 10);
  const small = budget.acquire(30);
  await assert.rejects(big, BudgetWaitTimeoutError);
  assert.equal(await settled(small), true);
  assert.equal(budget.inFlight, 90);
  held();
  (await small)();
  assert.equal(budget.inFlight, 0);
});

Deno.test("ByteBudget gives back what work no longer holds when it shrinks, and admits the next", async () => {
  const budget = new ByteBudget(100);
  const estimate = await budget.acquire(90);
  const next = budget.acquire(50);
  assert.equal(await settled(next), false);
  estimate.shrinkTo(30);
  assert.equal(await settled(next), true);
  assert.equal(budget.inFlight, 80);
  estimate.shrinkTo(60); // never takes more
  assert.equal(budget.inFlight, 80);
  estimate();
  estimate.shrinkTo(0); // nothing after the release
  assert.equal(budget.inFlight, 50);
  (await next)();
  assert.equal(budget.inFlight, 0);
});
