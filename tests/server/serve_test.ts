import assert from "node:assert/strict";
import { ConnectionClosedError, createServeHandler, handleServeError } from "../../server/serve.ts";
import { setLogSink } from "../../engine/log.ts";
import { HOOK_TOKEN, startTestApp } from "./test_app.ts";

const INFO = {
  remoteAddr: { hostname: "127.0.0.1", port: 40_000, transport: "tcp" },
  completed: Promise.resolve(),
} as unknown as Deno.ServeHandlerInfo<Deno.NetAddr>;

/** A request as Deno.serve hands it over: a declared length, and a body nobody may have read. */
function incoming(path: string, declared: number, headers: Record<string, string> = {}) {
  let pulled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled = true;
      controller.enqueue(new TextEncoder().encode("{}"));
      controller.close();
    },
  }, { highWaterMark: 0 });
  const request = new Request(`http://flowgate.test${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": String(declared), ...headers },
    body,
    duplex: "half",
  } as RequestInit);
  return { request, pulled: () => pulled };
}

/** Reads a response body to its end; resolves with the text and the error that ended it, if any. */
async function readToEnd(response: Response): Promise<{ text: string; error?: unknown }> {
  const reader = response.body!.getReader();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text };
      text += new TextDecoder().decode(value);
    }
  } catch (error) {
    return { text, error };
  }
}

Deno.test("createServeHandler() closes the connection after answering a refused large body", async () => {
  await using test = await startTestApp();
  const handle = createServeHandler(test.app);
  const { request, pulled } = incoming("/hooks/misp/event-publish", 33_554_432);
  const response = await handle(request, INFO);
  assert.equal(response.status, 401);
  assert.equal(response.headers.get("connection"), "close");
  assert.equal(response.headers.get("content-length"), null);
  const { text, error } = await readToEnd(response);
  assert.match(JSON.parse(text).error, /Missing or invalid hook token/);
  assert.ok(error instanceof ConnectionClosedError, "the stream ends with the closing error");
  assert.equal(pulled(), false);
});

Deno.test("createServeHandler() leaves answers alone when the body was read or is small", async (t) => {
  await using test = await startTestApp({ env: { FLOWGATE_MAX_BODY_BYTES: "1024" } });
  const handle = createServeHandler(test.app);
  await t.step("a small unread body: the HTTP server discards it", async () => {
    const { request } = incoming("/hooks/misp/event-publish", 2);
    const response = await handle(request, INFO);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("connection"), null);
    assert.match((await response.json()).error, /hook token/);
  });
  await t.step("a body read to its end", async () => {
    const { request } = incoming("/hooks/misp/event-publish", 2, {
      Authorization: `Bearer ${HOOK_TOKEN}`,
    });
    const response = await handle(request, INFO);
    assert.equal(response.status, 202);
    assert.equal(response.headers.get("connection"), null);
    await response.body?.cancel();
  });
  await t.step("MISP's /query keeps its answer whole, even over the limit", async () => {
    const { request, pulled } = incoming("/query", 33_554_432);
    const response = await handle(request, INFO);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("connection"), null);
    assert.match((await response.json()).error, /over the limit of 1024 bytes/);
    assert.equal(pulled(), false);
  });
});

Deno.test("handleServeError() logs a purposeful close at debug level, anything else as an error", () => {
  const lines: string[] = [];
  const previous = setLogSink((line) => lines.push(line));
  try {
    handleServeError(new ConnectionClosedError());
    assert.equal(handleServeError(new Error("boom")).status, 500);
  } finally {
    setLogSink(previous);
  }
  const levels = lines.map((line) => JSON.parse(line).level);
  assert.ok(!levels.slice(0, -1).includes("error"));
  assert.equal(levels.at(-1), "error");
});
