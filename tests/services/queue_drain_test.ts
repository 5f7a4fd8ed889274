import assert from "node:assert/strict";
import { createQueueDrain } from "../../services/queue_drain.ts";
import { captureLogs } from "../fixtures/log_capture.ts";
import { waitFor } from "../fixtures/wait_for.ts";

/** A handler whose calls wait until the test releases them, recording what they were given. */
function gatedHandler() {
  const started: unknown[] = [];
  const finished: unknown[] = [];
  const gate = Promise.withResolvers<void>();
  return {
    started,
    finished,
    release: () => gate.resolve(),
    async handle(message: unknown): Promise<void> {
      started.push(message);
      await gate.promise;
      finished.push(message);
    },
  };
}

/** "pending", "resolved" or "rejected": how the promise stands once pending microtasks ran. */
async function stateOf(promise: Promise<unknown>): Promise<string> {
  const pending = {};
  const settled = await Promise.race([
    promise.then(() => "resolved", () => "rejected"),
    new Promise((resolve) => setTimeout(() => resolve(pending), 0)),
  ]);
  return settled === pending ? "pending" : settled as string;
}

Deno.test("createQueueDrain() counts calls in flight and drain() waits for them", async () => {
  using logs = captureLogs();
  const inner = gatedHandler();
  const queue = createQueueDrain(inner.handle);
  const calls = [queue.handler("a"), queue.handler("b")];
  assert.equal(queue.inFlight, 2);

  const drained = queue.drain(60_000);
  assert.equal(await stateOf(drained), "pending");
  inner.release();
  assert.equal(await drained, true);
  await Promise.all(calls);
  assert.deepEqual(inner.finished, ["a", "b"]);
  assert.equal(queue.inFlight, 0);
  assert.deepEqual(logs.lines, []);
});

Deno.test("createQueueDrain() does not run a message delivered once the drain began", async () => {
  using logs = captureLogs();
  const inner = gatedHandler();
  const queue = createQueueDrain(inner.handle);
  const running = queue.handler("before");
  const drained = queue.drain(60_000);

  const late = queue.handler("during");
  assert.deepEqual(inner.started, ["before"], "the late message must not run");
  assert.equal(queue.inFlight, 1, "a held message is not counted as running");
  inner.release();
  assert.equal(await drained, true);
  await running;
  // Held, never settled: neither acknowledged (resolved) nor failed (thrown) in the KV.
  assert.equal(await stateOf(late), "pending");
  assert.equal(await stateOf(queue.handler("after")), "pending");
  assert.deepEqual(inner.started, ["before"]);
  assert.ok(
    logs.lines.some((line) => /kept for the next start/.test(line) && /"held":1/.test(line)),
  );
});

Deno.test("createQueueDrain() drain() with nothing in flight resolves at once", async () => {
  using logs = captureLogs();
  const queue = createQueueDrain(() => Promise.resolve());
  await queue.handler("done before");
  // A bound no test would wait out: resolving proves nothing waited for it.
  assert.equal(await queue.drain(3_600_000), true);
  assert.deepEqual(logs.lines, []);
});

Deno.test("createQueueDrain() drain() gives up at the bound and says how many still run", async () => {
  using logs = captureLogs();
  const inner = gatedHandler();
  const queue = createQueueDrain(inner.handle);
  const calls = [queue.handler("a"), queue.handler("b"), queue.handler("c")];

  assert.equal(await queue.drain(1), false);
  const warning = logs.lines.map((line) => JSON.parse(line)).find((entry) =>
    entry.level === "warn"
  );
  assert.ok(warning, `no warning in ${JSON.stringify(logs.lines)}`);
  assert.match(warning.message, /queue work still running after the drain bound/);
  assert.equal(warning.still_running, 3);
  assert.equal(warning.timeout_ms, 1);
  inner.release();
  await Promise.all(calls);
});

Deno.test("createQueueDrain() passes a handler's error on (for redelivery) and stops counting it", async () => {
  const queue = createQueueDrain(() => Promise.reject(new Error("Store busy")));
  await assert.rejects(queue.handler("x"), /Store busy/);
  assert.equal(queue.inFlight, 0);
  assert.equal(await queue.drain(3_600_000), true);
});

Deno.test({
  name:
    "createQueueDrain() on a real KV: a message held during the drain is delivered again once the KV is opened next",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using _logs = captureLogs();
    const dir = await Deno.makeTempDir({ prefix: "flowgate-queue-drain-" });
    const path = `${dir}/queue.kv`;
    const options = (id: string) => ({
      backoffSchedule: [1_000, 5_000],
      keysIfUndelivered: [["undelivered", id]],
    });
    try {
      const first = await Deno.openKv(path);
      const inner = gatedHandler();
      const queue = createQueueDrain(inner.handle);
      const deliveredLater: unknown[] = [];
      first.listenQueue((message) => {
        if (inner.started.length > 0) deliveredLater.push(message);
        return queue.handler(message);
      });
      await first.enqueue("in flight", options("in flight"));
      await waitFor(() => inner.started.length === 1, { what: "the first message running" });

      const drained = queue.drain(60_000);
      await first.enqueue("during shutdown", options("during shutdown"));
      await waitFor(() => deliveredLater.includes("during shutdown"), {
        what: "the KV delivering the message sent during the drain",
      });
      inner.release();
      assert.equal(await drained, true);
      first.close();
      assert.deepEqual(inner.started, ["in flight"]);

      // Deno KV's lease cleanup requeues the held message: at open once its lease (5 s after the
      // last keepalive) has run out, else at the next cleanup, about a minute later. So the KV is
      // opened again until the message comes.
      const delivered: unknown[] = [];
      await waitFor(async () => {
        const kv = await Deno.openKv(path);
        try {
          const came = Promise.withResolvers<void>();
          kv.listenQueue((message) => {
            delivered.push(message);
            if (message === "during shutdown") came.resolve();
          });
          const pause = Promise.withResolvers<void>();
          const timer = setTimeout(pause.resolve, 250);
          await Promise.race([came.promise, pause.promise]);
          clearTimeout(timer);
        } finally {
          kv.close();
        }
        return delivered.includes("during shutdown");
      }, { what: "the held message delivered again after the KV reopened", timeoutMs: 90_000 });
      // The message that finished may come again too: the KV acknowledges a delivery after its
      // handler returns, and the close can beat that (delivery is at least once; the queue
      // handler skips runs already stored).
      await using second = await Deno.openKv(path);
      for (const id of ["in flight", "during shutdown"]) {
        assert.equal((await second.get(["undelivered", id])).value, null, `${id} undelivered`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
