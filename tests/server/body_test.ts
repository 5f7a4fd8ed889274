import assert from "node:assert/strict";
import {
  BodyTimeoutError,
  BodyTooLargeError,
  declaredLength,
  readBodyBytes,
  type ReadBodyOptions,
  releaseBuffer,
} from "../../server/body.ts";

const OPTIONS: ReadBodyOptions = { maxBytes: 1_024, idleTimeoutMs: 1_000, totalTimeoutMs: 5_000 };

/** A body stream that hands out `chunks` (waiting `gapMs` before each) and records its fate. */
function chunkedStream(
  chunks: Uint8Array[],
  options: { gapMs?: number; thenStall?: boolean } = {},
) {
  const state = { pulls: 0, cancelled: false };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      state.pulls++;
      const next = chunks.shift();
      if (next === undefined) {
        if (options.thenStall) {
          // A client that sends nothing more: the read never settles until cancelled.
          await new Promise<void>((resolve) => {
            timer = setTimeout(resolve, 60_000);
            stalled = resolve;
          });
          return;
        }
        controller.close();
        return;
      }
      if (options.gapMs) await new Promise((resolve) => setTimeout(resolve, options.gapMs));
      controller.enqueue(next);
    },
    cancel() {
      state.cancelled = true;
      clearTimeout(timer);
      stalled?.();
    },
  }, { highWaterMark: 0 });
  let stalled: (() => void) | undefined;
  return { stream, state };
}

function request(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request("http://flowgate.test/x", {
    method: "POST",
    headers,
    body,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
}

Deno.test("readBodyBytes() reads a chunked body whole, in order, without trusting a length", async () => {
  const { stream, state } = chunkedStream([
    new TextEncoder().encode('{"a":'),
    new TextEncoder().encode("1,"),
    new TextEncoder().encode('"b":2}'),
  ]);
  const bytes = await readBodyBytes(request(stream), OPTIONS);
  assert.equal(new TextDecoder().decode(bytes), '{"a":1,"b":2}');
  assert.equal(state.cancelled, false);
});

Deno.test("readBodyBytes() releases the chunks it copied when asked, and only then", async () => {
  const encoded = (text: string) => new TextEncoder().encode(text);
  const kept = [encoded('{"a":'), encoded("1}")];
  const keptBody = await readBodyBytes(request(chunkedStream([...kept]).stream), OPTIONS);
  assert.deepEqual(kept.map((chunk) => chunk.byteLength), [5, 2]);

  const released = [encoded('{"a":'), encoded("1}")];
  const releasedBody = await readBodyBytes(request(chunkedStream([...released]).stream), OPTIONS, {
    releaseChunks: true,
  });
  for (const body of [keptBody, releasedBody]) {
    assert.equal(new TextDecoder().decode(body), '{"a":1}');
  }
  assert.deepEqual(released.map((chunk) => chunk.buffer.detached), [true, true]);
  assert.deepEqual(released.map((chunk) => chunk.byteLength), [0, 0]);

  // A body of one chunk is that chunk itself: it is not released.
  const single = encoded('{"b":2}');
  const singleBody = await readBodyBytes(request(chunkedStream([single]).stream), OPTIONS, {
    releaseChunks: true,
  });
  assert.equal(new TextDecoder().decode(singleBody), '{"b":2}');
});

Deno.test("releaseBuffer() detaches a buffer once, and leaves shared memory alone", () => {
  const bytes = new Uint8Array(1_000_000).fill(7);
  const view = bytes.subarray(10, 20);
  releaseBuffer(bytes);
  assert.equal(bytes.buffer.detached, true);
  assert.equal(view.byteLength, 0);
  releaseBuffer(view);
  const shared = new Uint8Array(new SharedArrayBuffer(8)).fill(1);
  releaseBuffer(shared);
  assert.deepEqual([...shared], [1, 1, 1, 1, 1, 1, 1, 1]);
});

Deno.test("readBodyBytes() reads no body as no bytes", async () => {
  assert.equal((await readBodyBytes(request(null), OPTIONS)).byteLength, 0);
});

Deno.test("readBodyBytes() refuses a declared Content-Length over the cap before reading a byte", async () => {
  const { stream, state } = chunkedStream([new Uint8Array(10)]);
  await assert.rejects(
    readBodyBytes(request(stream, { "content-length": "33554432" }), {
      ...OPTIONS,
      what: "MISP queries",
      setting: "FLOWGATE_MAX_BODY_BYTES",
    }),
    (error: unknown) => {
      assert.ok(error instanceof BodyTooLargeError);
      assert.equal(error.limit, 1_024);
      assert.equal(
        error.message,
        "Request body over the limit of 1024 bytes for MISP queries: send a smaller body or " +
          "raise FLOWGATE_MAX_BODY_BYTES",
      );
      return true;
    },
  );
  assert.equal(state.pulls, 0);
});

Deno.test("readBodyBytes() stops at the cap whatever the Content-Length says", async (t) => {
  await t.step(
    "a length that lies low: counted bytes decide, and the stream is cancelled",
    async () => {
      const { stream, state } = chunkedStream([
        new Uint8Array(600),
        new Uint8Array(600),
        new Uint8Array(600),
      ]);
      await assert.rejects(
        readBodyBytes(request(stream, { "content-length": "10" }), OPTIONS),
        BodyTooLargeError,
      );
      assert.equal(state.cancelled, true);
      assert.equal(state.pulls, 2, "no chunk is read after the one that crossed the cap");
    },
  );
  await t.step("a length that lies high: only the bytes received are kept", async () => {
    const { stream } = chunkedStream([new Uint8Array(5).fill(7)]);
    const bytes = await readBodyBytes(request(stream, { "content-length": "1000" }), OPTIONS);
    assert.deepEqual([...bytes], [7, 7, 7, 7, 7]);
  });
  await t.step("exactly the cap is accepted", async () => {
    const { stream } = chunkedStream([new Uint8Array(1_000), new Uint8Array(24)]);
    assert.equal((await readBodyBytes(request(stream), OPTIONS)).byteLength, 1_024);
  });
});

Deno.test("readBodyBytes() gives up on a body that stalls: idle timeout, stream cancelled", async () => {
  const { stream, state } = chunkedStream([new Uint8Array(1)], { thenStall: true });
  const started = performance.now();
  await assert.rejects(
    readBodyBytes(request(stream), { ...OPTIONS, idleTimeoutMs: 50 }),
    (error: unknown) => {
      assert.ok(error instanceof BodyTimeoutError);
      assert.ok(error instanceof Deno.errors.TimedOut);
      assert.equal(error.kind, "idle");
      assert.match(error.message, /no byte received for 50 ms \(FLOWGATE_BODY_IDLE_TIMEOUT_MS\)/);
      return true;
    },
  );
  assert.ok(performance.now() - started < 1_000);
  assert.equal(state.cancelled, true);
});

Deno.test("readBodyBytes() gives up on a body that trickles: total timeout, stream cancelled", async () => {
  // One byte every 20 ms never trips the 100 ms idle timeout, but 50 of them take 1 s.
  const chunks = Array.from({ length: 50 }, () => new Uint8Array(1));
  const { stream, state } = chunkedStream(chunks, { gapMs: 20 });
  await assert.rejects(
    readBodyBytes(request(stream), { ...OPTIONS, idleTimeoutMs: 100, totalTimeoutMs: 200 }),
    (error: unknown) => {
      assert.ok(error instanceof BodyTimeoutError);
      assert.equal(error.kind, "total");
      assert.match(error.message, /not complete after 200 ms \(FLOWGATE_BODY_TIMEOUT_MS\)/);
      return true;
    },
  );
  assert.equal(state.cancelled, true);
  assert.ok(state.pulls < 50);
});

Deno.test("declaredLength() reads a Content-Length and nothing else", () => {
  assert.equal(declaredLength(new Headers({ "content-length": "42" })), 42);
  assert.equal(declaredLength(new Headers({ "transfer-encoding": "chunked" })), undefined);
  assert.equal(declaredLength(new Headers({ "content-length": "4x" })), undefined);
});
