import assert from "node:assert/strict";
import { BodyTooLargeError, type ReadBodyOptions } from "../../server/body.ts";
import { readBodyInBudget } from "../../server/body_in_budget.ts";
import { BudgetWaitTimeoutError, ByteBudget } from "../../services/byte_budget.ts";
import { waitFor } from "../fixtures/wait_for.ts";

const LIMITS: ReadBodyOptions = { maxBytes: 500, idleTimeoutMs: 60_000, totalTimeoutMs: 60_000 };

/** A request whose body the test sends piece by piece; `pulled` tells whether it was read. */
function heldRequest(declared: number | undefined) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const state = { pulled: false };
  const body = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    pull: () => void (state.pulled = true),
  }, { highWaterMark: 0 });
  const request = new Request("http://flowgate.test/query", {
    method: "POST",
    body,
    headers: declared === undefined ? {} : { "content-length": String(declared) },
  });
  return {
    request,
    state,
    send: (bytes: number) => controller.enqueue(new Uint8Array(bytes)),
    end: () => controller.close(),
  };
}

/** "pending" or "settled" once the pending microtasks and a macrotask ran. */
async function stateOf(promise: Promise<unknown>): Promise<"pending" | "settled"> {
  let settled = false;
  promise.then(() => settled = true, () => settled = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return settled ? "settled" : "pending";
}

function read(
  request: Request,
  budget: ByteBudget,
  releases: (() => void)[],
  options: { slowBodyMs?: number; waitMs?: number } = {},
  maxTaken?: number,
) {
  return readBodyInBudget(request, LIMITS, budget, {
    waitLeft: () => options.waitMs ?? 60_000,
    releases,
    slowBodyMs: options.slowBodyMs ?? 60_000,
    ...(maxTaken === undefined ? {} : { maxTaken }),
  });
}

Deno.test("readBodyInBudget() takes the declared length before reading; a body past the budget waits unread", async () => {
  const budget = new ByteBudget(100);
  const first = heldRequest(80);
  const second = heldRequest(50);
  const firstReleases: (() => void)[] = [];
  const secondReleases: (() => void)[] = [];
  const reading = read(first.request, budget, firstReleases);
  await waitFor(() => first.state.pulled, { what: "the first body being read" });
  assert.equal(budget.inFlight, 80, "the declared length is taken before the bytes come");
  const waiting = read(second.request, budget, secondReleases);
  assert.equal(await stateOf(waiting), "pending");
  assert.equal(second.state.pulled, false, "the second body is not read while it waits");
  first.send(80);
  first.end();
  assert.equal((await reading).length, 80);
  assert.equal(await stateOf(waiting), "pending", "a body read is held until its answer");
  for (const release of firstReleases) release();
  second.send(50);
  second.end();
  assert.equal((await waiting).length, 50);
  assert.equal(budget.inFlight, 50);
  for (const release of secondReleases) release();
  assert.equal(budget.inFlight, 0);
});

Deno.test("readBodyInBudget() lets a slow body keep only what it sent, so the others go on", async () => {
  const budget = new ByteBudget(100);
  const slow = heldRequest(90);
  const fast = heldRequest(50);
  const slowReleases: (() => void)[] = [];
  const fastReleases: (() => void)[] = [];
  const slowReading = read(slow.request, budget, slowReleases, { slowBodyMs: 20 });
  slow.send(10);
  const fastReading = read(fast.request, budget, fastReleases);
  await waitFor(() => fast.state.pulled, { what: "the fast body read once the slow one shrank" });
  assert.equal(budget.inFlight, 60, "the slow body holds the 10 bytes it sent, the fast one 50");
  fast.send(50);
  fast.end();
  assert.equal((await fastReading).length, 50);
  assert.equal(await stateOf(slowReading), "pending", "the slow body is still being read");
  slow.send(80);
  slow.end();
  assert.equal((await slowReading).length, 90);
  for (const release of [...slowReleases, ...fastReleases]) release();
  assert.equal(budget.inFlight, 0);
});

Deno.test("readBodyInBudget() reads a body of unknown length first, then takes its size", async () => {
  const budget = new ByteBudget(100);
  const chunked = heldRequest(undefined);
  const releases: (() => void)[] = [];
  const reading = read(chunked.request, budget, releases);
  chunked.send(30);
  chunked.end();
  assert.equal((await reading).length, 30);
  assert.equal(budget.inFlight, 30);
  for (const release of releases) release();
  assert.equal(budget.inFlight, 0);
});

Deno.test("readBodyInBudget() refuses a declared length over the cap before taking or reading anything", async () => {
  const budget = new ByteBudget(100);
  const huge = heldRequest(LIMITS.maxBytes + 1);
  const releases: (() => void)[] = [];
  await assert.rejects(read(huge.request, budget, releases), BodyTooLargeError);
  assert.equal(budget.inFlight, 0);
  assert.equal(releases.length, 0);
  assert.equal(huge.state.pulled, false);
});

Deno.test("readBodyInBudget() gives up a bounded wait without reading the body", async () => {
  const budget = new ByteBudget(100);
  const held = await budget.acquire(100);
  const late = heldRequest(10);
  const releases: (() => void)[] = [];
  await assert.rejects(read(late.request, budget, releases, { waitMs: 5 }), BudgetWaitTimeoutError);
  assert.equal(late.state.pulled, false);
  assert.equal(releases.length, 0);
  held();
  assert.equal(budget.inFlight, 0);
});

Deno.test("readBodyInBudget() takes at most maxTaken of a body, so one cut short lets the next large one in", async () => {
  const budget = new ByteBudget(100);
  const stalled = heldRequest(400);
  const large = heldRequest(400);
  const stalledReleases: (() => void)[] = [];
  const largeReleases: (() => void)[] = [];
  const stalledReading = read(stalled.request, budget, stalledReleases, { slowBodyMs: 20 }, 50);
  stalled.send(1);
  await waitFor(() => budget.inFlight === 1, { what: "the stalled body cut to the byte it sent" });
  const largeReading = read(large.request, budget, largeReleases, {}, 50);
  await waitFor(() => large.state.pulled, { what: "the large body read beside the stalled one" });
  assert.equal(budget.inFlight, 51);
  large.send(400);
  large.end();
  assert.equal((await largeReading).length, 400);
  stalled.send(399);
  stalled.end();
  assert.equal((await stalledReading).length, 400);
  for (const release of [...stalledReleases, ...largeReleases]) release();
  assert.equal(budget.inFlight, 0);
});
