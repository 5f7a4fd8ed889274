/**
 * A local HTTP(S) server that stands in for any webhook receiver (generic webhooks, Teams, Splunk
 * HEC, Slack and Mattermost APIs): listens on 127.0.0.1 (port 0), records every request, and
 * answers as told: a status and body, slowly, with a huge or never-ending body, or with a redirect.
 *
 * ```ts
 * await using sink = startWebhookSink();
 * sink.reply({ status: 401 });
 * await fetch(`${sink.url}/x`, { method: "POST", body: "{}" });
 * sink.requests[0]; // { method: "POST", path: "/x", search: "", headers, body: "{}" }
 * ```
 *
 * @module
 */

/** One request the sink received. */
export interface SinkRequest {
  method: string;
  path: string;
  search: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
}

/** How the sink answers the next requests. */
export interface SinkReply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Waits this long before answering (cut short when the sink closes). */
  delayMs?: number;
  /** Streams a body of this many bytes (`x` repeated) instead of `body`. */
  hugeBytes?: number;
  /** Answers 302 with this `Location`. */
  redirectTo?: string;
  /** Sends the headers, then one byte of body every this many milliseconds, never ending. */
  trickleMs?: number;
}

/** Options of `startWebhookSink`. */
export interface WebhookSinkOptions {
  /** Serves HTTPS with this PEM certificate and key. */
  tls?: { cert: string; key: string };
}

/** A running sink; close it with `await using` or `close()`. */
export interface WebhookSink extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` (or https). */
  url: string;
  port: number;
  requests: SinkRequest[];
  /**
   * Sets the answer for the following requests (default: 200 `{"ok":true}`); a function may
   * answer later (a long poll), resolving its promise when it has something to say.
   */
  reply(reply: SinkReply | ((request: SinkRequest) => SinkReply | Promise<SinkReply>)): void;
  close(): Promise<void>;
}

const HUGE_CHUNK = new TextEncoder().encode("x".repeat(65_536));

function hugeStream(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const chunk = HUGE_CHUNK.subarray(0, Math.min(HUGE_CHUNK.byteLength, size - sent));
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
}

function trickleStream(intervalMs: number, signal: AbortSignal): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setInterval> | undefined;
  const stop = () => clearInterval(timer);
  return new ReadableStream({
    start(controller) {
      timer = setInterval(() => controller.enqueue(new Uint8Array([120])), intervalMs);
      signal.addEventListener("abort", () => {
        stop();
        controller.close();
      }, { once: true });
    },
    cancel: stop,
  });
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** Starts a sink on 127.0.0.1 with a free port. */
export function startWebhookSink(options: WebhookSinkOptions = {}): WebhookSink {
  const requests: SinkRequest[] = [];
  const closing = new AbortController();
  let answer: SinkReply | ((request: SinkRequest) => SinkReply | Promise<SinkReply>) = {};
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    ...options.tls,
  }, async (request) => {
    const url = new URL(request.url);
    const recorded: SinkRequest = {
      method: request.method,
      path: url.pathname,
      search: url.search,
      headers: Object.fromEntries(request.headers),
      body: await request.text(),
    };
    requests.push(recorded);
    const reply = typeof answer === "function" ? await answer(recorded) : answer;
    if (reply.delayMs) await wait(reply.delayMs, closing.signal);
    if (reply.redirectTo) {
      return new Response(null, { status: 302, headers: { location: reply.redirectTo } });
    }
    const body = reply.trickleMs
      ? trickleStream(reply.trickleMs, closing.signal)
      : reply.hugeBytes
      ? hugeStream(reply.hugeBytes)
      : reply.body ?? '{"ok":true}';
    return new Response(body, {
      status: reply.status ?? 200,
      headers: { "content-type": "application/json", ...reply.headers },
    });
  });
  const port = server.addr.port;
  const close = async () => {
    closing.abort();
    await server.shutdown();
  };
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    requests,
    reply(next) {
      answer = next;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
