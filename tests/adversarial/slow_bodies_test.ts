/**
 * Adversarial, against a real Flowgate process over raw TCP: bodies that stall or trickle are cut
 * by the idle and total read timeouts, and held connections that declare a 32 MiB body but send
 * one byte cost no memory for the bytes they never sent. Unauthenticated ones are refused before
 * the body is read.
 */

import assert from "node:assert/strict";
import { chatEnv, SLACK_TOKEN, TELEGRAM_SECRET, TELEGRAM_TOKEN } from "../bot/chat_harness.ts";
import { startSlackApi } from "../fakes/slack_api.ts";
import { startTelegramApi } from "../fakes/telegram_api.ts";
import { type FlowgateProcess, startFlowgate } from "../fixtures/flowgate_process.ts";
import { pollUntil, queryBody, readRssBytes, tlpRedEvent } from "./harness.ts";

/**
 * Environment names of the body read timeouts (idle: no byte for this long; total: the whole
 * body). Both in milliseconds.
 */
const BODY_TIMEOUT_ENV = {
  idle: "FLOWGATE_BODY_IDLE_TIMEOUT_MS",
  total: "FLOWGATE_BODY_TIMEOUT_MS",
} as const;

/** A raw HTTP/1.1 request held open on its own TCP connection. */
class RawRequest {
  readonly #conn: Deno.TcpConn;
  readonly #chunks: Uint8Array[] = [];
  #closed = false;
  /** Resolves when the server closes the connection (or it fails). */
  readonly ended: Promise<void>;

  /** Wraps an open connection and starts reading what the server sends. */
  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.ended = (async () => {
      const buffer = new Uint8Array(16_384);
      try {
        for (;;) {
          const read = await conn.read(buffer);
          if (read === null) break;
          this.#chunks.push(buffer.slice(0, read));
        }
      } catch {
        // Reset by the peer, or closed by us: either way the exchange is over.
      }
      this.#closed = true;
    })();
  }

  /** Opens a connection to `port` and sends `head` (request line and headers, no body). */
  static async open(port: number, head: string): Promise<RawRequest> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const request = new RawRequest(conn);
    await request.write(head);
    return request;
  }

  /** Sends more bytes; false when the server no longer takes them. */
  async write(text: string): Promise<boolean> {
    try {
      const bytes = new TextEncoder().encode(text);
      let written = 0;
      while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
      return true;
    } catch {
      return false;
    }
  }

  /** Everything the server sent so far. */
  get received(): string {
    return new TextDecoder().decode(concat(this.#chunks));
  }

  /** The status of the server's answer, once its status line arrived. */
  get status(): number | undefined {
    const match = this.received.match(/^HTTP\/1\.[01] (\d{3})/);
    return match ? Number(match[1]) : undefined;
  }

  /** The answer's body, once the headers arrived (may still be partial). */
  get body(): string | undefined {
    const text = this.received;
    const end = text.indexOf("\r\n\r\n");
    return end < 0 ? undefined : text.slice(end + 4);
  }

  /** True once the server closed the connection. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes our side and waits for the reader to finish. */
  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    await this.ended;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** The head of a raw HTTP/1.1 POST declaring `contentLength` body bytes. */
function rawHead(
  path: string,
  contentLength: number,
  headers: Record<string, string> = {},
): string {
  const lines = [
    `POST ${path} HTTP/1.1`,
    "Host: 127.0.0.1",
    "Content-Type: application/json",
    `Content-Length: ${contentLength}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join("\r\n")}\r\n\r\n`;
}

const ADMIN_TOKEN = "adversarial-admin-token-0123456789";
const HOOK_TOKEN = "adversarial-hook-token-0123456789";
const IDLE_MS = 400;
const TOTAL_MS = 1_500;
/** Slack for what the timeouts may take beyond their setting (a slow CI machine). */
const GRACE_MS = 2_500;
const DECLARED_BYTES = 33_554_432;
const MIB = 1_048_576;
/** Most the 60 held connections may add to the server's resident memory. */
const RSS_BUDGET_BYTES = 150 * MIB;

/** A Flowgate process with Slack and Telegram on local fakes; `await using` stops it all. */
async function startServer(env: Record<string, string>): Promise<
  AsyncDisposable & { flowgate: FlowgateProcess; pid: number }
> {
  const dir = await Deno.makeTempDir({ prefix: "flowgate-adversarial-" });
  const slack = startSlackApi({ token: SLACK_TOKEN });
  const telegram = startTelegramApi({ token: TELEGRAM_TOKEN, chats: [] });
  const kvPath = `${dir}/flowgate.kv`;
  let flowgate: FlowgateProcess | undefined;
  const stopAll = async () => {
    await flowgate?.kill9();
    await slack.close();
    await telegram.close();
    await Deno.remove(dir, { recursive: true });
  };
  try {
    flowgate = await startFlowgate({
      kvPath,
      adminToken: ADMIN_TOKEN,
      hookToken: HOOK_TOKEN,
      env: {
        ...chatEnv(slack, telegram),
        ...env,
      },
    });
    return { flowgate, pid: flowgate.pid, [Symbol.asyncDispose]: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** A route, the headers it needs past its credentials, and what a stalled body may get. */
interface StallCase {
  label: string;
  path: string;
  headers: Record<string, string>;
  /** Statuses the server may answer once it gives up on the body; closing is always fine. */
  allowed: number[];
}

function stallCases(): StallCase[] {
  const now = String(Math.floor(Date.now() / 1_000));
  return [
    // MISP allows on any non-2xx: /query gives up with 200 and an error, never 408.
    { label: "POST /query", path: "/query", headers: {}, allowed: [200] },
    {
      label: "POST /hooks/misp/event-publish",
      path: "/hooks/misp/event-publish",
      headers: { Authorization: `Bearer ${HOOK_TOKEN}` },
      allowed: [408],
    },
    {
      label: "POST /api/workflows",
      path: "/api/workflows",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      allowed: [408],
    },
    {
      label: "POST /slack/events (fresh timestamp)",
      path: "/slack/events",
      headers: { "X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=00" },
      allowed: [408, 401],
    },
    {
      label: "POST /telegram",
      path: "/telegram",
      headers: { "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET },
      allowed: [408],
    },
    {
      label: "POST /sign-in",
      path: "/sign-in",
      headers: { Origin: `http://127.0.0.1`, "Content-Type": "application/x-www-form-urlencoded" },
      allowed: [408, 403],
    },
  ];
}

/** What is wrong with how a stalled request ended, or undefined. */
function endProblem(request: RawRequest, allowed: number[]): string | undefined {
  const status = request.status;
  if (status === undefined) return request.closed ? undefined : "still open, no answer";
  if (!allowed.includes(status)) {
    return `answered ${status} (expected ${allowed.join(" or ")}, or a closed connection): ${
      JSON.stringify(request.received.slice(0, 300))
    }`;
  }
  if (status === 200 && !/"error"\s*:/.test(request.body ?? "")) {
    return `answered 200 without {"error"}: ${JSON.stringify(request.received.slice(0, 300))}`;
  }
  return undefined;
}

Deno.test({
  name: "a body that stalls or trickles is cut by the idle and total timeouts",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using server = await startServer({
      [BODY_TIMEOUT_ENV.idle]: String(IDLE_MS),
      [BODY_TIMEOUT_ENV.total]: String(TOTAL_MS),
    });
    const port = server.flowgate.port;

    await t.step(
      `1 byte then silence: answered or closed after the ${IDLE_MS} ms idle timeout`,
      async () => {
        const cases = stallCases();
        const requests = await Promise.all(cases.map(async ({ path, headers }) => {
          const request = await RawRequest.open(port, rawHead(path, 1_000, headers));
          await request.write("{");
          return request;
        }));
        try {
          await pollUntil(
            () => requests.every((r) => r.status !== undefined || r.closed),
            IDLE_MS + GRACE_MS,
          );
          const problems = cases.flatMap(({ label, allowed }, i) => {
            const problem = endProblem(requests[i]!, allowed);
            return problem
              ? [`${label}: ${problem} ${IDLE_MS + GRACE_MS} ms after its last byte`]
              : [];
          });
          assert.deepEqual(
            problems,
            [],
            `Stalled bodies were not cut:\n  ${problems.join("\n  ")}`,
          );
        } finally {
          await Promise.all(requests.map((r) => r.close()));
        }
      },
    );

    await t.step(
      `1 byte every ${IDLE_MS / 2} ms: cut by the ${TOTAL_MS} ms total timeout`,
      async () => {
        const cases = stallCases();
        const requests = await Promise.all(
          // 10,000 bytes declared: under every route's cap (sign-in: 16 KiB), never all sent.
          cases.map(({ path, headers }) => RawRequest.open(port, rawHead(path, 10_000, headers))),
        );
        const started = Date.now();
        try {
          // Trickle under the idle timeout until each request is answered or closed.
          const trickling = requests.map(async (request) => {
            let first = true;
            while (request.status === undefined && !request.closed) {
              if (Date.now() - started > TOTAL_MS + GRACE_MS) return;
              if (!(await request.write(first ? "{" : " "))) return;
              first = false;
              await pollUntil(() => request.status !== undefined || request.closed, IDLE_MS / 2);
            }
          });
          await Promise.all(trickling);
          const problems = cases.flatMap(({ label, allowed }, i) => {
            const problem = endProblem(requests[i]!, allowed);
            return problem
              ? [`${label}: ${problem} after ${TOTAL_MS + GRACE_MS} ms of trickling`]
              : [];
          });
          assert.deepEqual(
            problems,
            [],
            `Trickled bodies were not cut:\n  ${problems.join("\n  ")}`,
          );
        } finally {
          await Promise.all(requests.map((r) => r.close()));
        }
      },
    );

    await t.step("the server still answers /healthz and /query afterwards", async () => {
      const health = await fetch(`${server.flowgate.url}/healthz`);
      await health.body?.cancel();
      assert.equal(health.status, 200);
      const query = await fetch(`${server.flowgate.url}/query`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: queryBody("flowgate_event_publish", await tlpRedEvent()),
      });
      assert.equal(query.status, 200);
      await query.body?.cancel();
    });
  },
});

Deno.test({
  name:
    "60 held connections declaring 32 MiB add < 150 MiB; unauthenticated ones are refused at once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // Default-length timeouts: the held connections stay open while memory is measured.
    await using server = await startServer({});
    const { port, url } = server.flowgate;
    // Warm up the paths the held requests take, so the baseline includes their code.
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${url}/query`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: queryBody("flowgate_event_publish", await tlpRedEvent()),
      });
      await response.body?.cancel();
    }
    const baseline = await readRssBytes(server.pid);

    const held: RawRequest[] = [];
    const refused: { label: string; request: RawRequest; opened: number }[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        held.push(await RawRequest.open(port, rawHead("/query", DECLARED_BYTES)));
      }
      const unauthenticated: [string, string, Record<string, string>][] = [
        ["POST /hooks/misp/event-publish without a token", "/hooks/misp/event-publish", {}],
        ["POST /api/workflows without a token", "/api/workflows", {}],
        ["POST /slack/events unsigned", "/slack/events", {}],
      ];
      for (const [label, path, headers] of unauthenticated) {
        for (let i = 0; i < 10; i++) {
          const opened = Date.now();
          refused.push({
            label,
            request: await RawRequest.open(port, rawHead(path, DECLARED_BYTES, headers)),
            opened,
          });
        }
      }
      await Promise.all([...held, ...refused.map((r) => r.request)].map((r) => r.write("{")));

      const problems: string[] = [];
      // Refused without reading the body: a status line arrives promptly, 401/403 (or 413 where
      // the declared length is over the route's own cap).
      await pollUntil(() => refused.every(({ request }) => request.status !== undefined), 3_000);
      for (const { label, request } of refused) {
        if (![401, 403, 413].includes(request.status ?? 0)) {
          problems.push(`${label}: ${request.status ?? "no answer"} within 3 s (body read first?)`);
        }
      }

      // The server is still responsive while the /query bodies are held.
      try {
        const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
        await health.body?.cancel();
        if (health.status !== 200) {
          problems.push(`GET /healthz while bodies are held: ${health.status}`);
        }
      } catch (error) {
        problems.push(`GET /healthz while bodies are held: ${(error as Error).message}`);
      }

      // Memory: sampled over a short window (reserving a declared body is immediate).
      let peak = baseline;
      await pollUntil(async () => {
        peak = Math.max(peak, await readRssBytes(server.pid));
        return peak - baseline >= RSS_BUDGET_BYTES;
      }, 1_000);
      if (peak - baseline >= RSS_BUDGET_BYTES) {
        problems.push(
          `RSS grew by ${((peak - baseline) / MIB).toFixed(0)} MiB with 30 held /query bodies ` +
            "and 30 refused ones (budget 150 MiB): memory is reserved for bytes never received",
        );
      }
      if (!held.some((request) => request.status === undefined && !request.closed)) {
        problems.push("No /query body was still held when memory was measured");
      }
      assert.deepEqual(problems, [], `Held connections:\n  ${problems.join("\n  ")}`);
    } finally {
      await Promise.all([...held, ...refused.map((r) => r.request)].map((r) => r.close()));
    }
  },
});
