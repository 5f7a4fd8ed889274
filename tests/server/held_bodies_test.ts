/**
 * Issue 10, defect 3: clients that announce a 32 MiB body, send one byte and hold the connection
 * must cost a real Flowgate process little memory, be refused before their body is read when they
 * are not authenticated, and be answered within the body idle timeout.
 */

import assert from "node:assert/strict";
import { startFlowgate } from "../fixtures/flowgate_process.ts";

const ADMIN_TOKEN = "held-bodies-admin-token-0123456789";
const HOOK_TOKEN = "held-bodies-hook-token-0123456789";
const DECLARED = 33_554_432;
const CONNECTIONS_PER_ROUTE = 30;
const IDLE_TIMEOUT_MS = 1_500;
const MAX_GROWTH_KIB = 150 * 1_024;

/** One kind of held request and what the server must answer it. */
interface HeldRoute {
  name: string;
  path: string;
  headers: Record<string, string>;
  status: number;
  /** Refused before reading: the server closes the connection right after its answer. */
  closedAfterAnswer: boolean;
}

/** A raw connection: what the server sent, when its status line came, when it closed. */
interface HeldConnection {
  route: HeldRoute;
  conn: Deno.TcpConn;
  received: string;
  answeredAt?: number;
  closedAt?: number;
}

function residentKib(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = status.match(/^VmRSS:\s+(\d+) kB/m);
  if (!match) throw new Error(`No VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

async function hold(port: number, route: HeldRoute): Promise<HeldConnection> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = [
    `POST ${route.path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Content-Type: application/json",
    `Content-Length: ${DECLARED}`,
    ...Object.entries(route.headers).map(([name, value]) => `${name}: ${value}`),
    "",
    "{",
  ].join("\r\n");
  await conn.write(new TextEncoder().encode(head));
  const held: HeldConnection = { route, conn, received: "" };
  // Reads until the server closes (or the test closes the connection).
  (async () => {
    const buffer = new Uint8Array(4_096);
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const read = await conn.read(buffer);
        if (read === null) break;
        held.received += decoder.decode(buffer.subarray(0, read));
        if (held.answeredAt === undefined && held.received.includes("\r\n")) {
          held.answeredAt = Date.now();
        }
      }
    } catch {
      // Reset by the server or closed by the test: either way the connection is over.
    }
    held.closedAt = Date.now();
  })();
  return held;
}

function statusOf(held: HeldConnection): number | undefined {
  const match = held.received.match(/^HTTP\/1\.1 (\d{3})/);
  return match ? Number(match[1]) : undefined;
}

/** Polls `done` every 20 ms, sampling memory meanwhile, until true or `timeoutMs` passed. */
async function waitWhileSampling(
  done: () => boolean,
  sample: () => void,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    sample();
    if (done()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test({
  name: "Held 32 MiB bodies: 150 connections add < 150 MiB, refused ones are closed unread, " +
    "read ones answered at the idle timeout",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "flowgate-held-" });
    await using flowgate = await startFlowgate({
      kvPath: `${dir}/flowgate.kv`,
      adminToken: ADMIN_TOKEN,
      hookToken: HOOK_TOKEN,
      env: {
        FLOWGATE_BODY_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
        FLOWGATE_BODY_TIMEOUT_MS: "5000",
        SLACK_BOT_TOKEN: "xoxb-held-bodies",
        SLACK_SIGNING_SECRET: "held-bodies-signing-secret",
        SLACK_API_URL: "http://127.0.0.1:9/api",
      },
    });
    const now = String(Math.floor(Date.now() / 1_000));
    const routes: HeldRoute[] = [
      {
        name: "/hooks without token",
        path: "/hooks/misp/event-publish",
        headers: {},
        status: 401,
        closedAfterAnswer: true,
      },
      {
        name: "/api/workflows without token",
        path: "/api/workflows",
        headers: {},
        status: 401,
        closedAfterAnswer: true,
      },
      {
        name: "/slack/events over its 1 MiB cap",
        path: "/slack/events",
        headers: { "X-Slack-Signature": "v0=00", "X-Slack-Request-Timestamp": now },
        status: 413,
        closedAfterAnswer: true,
      },
      {
        name: "/query from MISP's address (read, then idle)",
        path: "/query",
        headers: {},
        status: 200,
        closedAfterAnswer: false,
      },
      {
        name: "/hooks with the token (read, then idle)",
        path: "/hooks/misp/event-publish",
        headers: { Authorization: `Bearer ${HOOK_TOKEN}` },
        status: 408,
        closedAfterAnswer: false,
      },
    ];
    // Warm up the code paths once, so the baseline is not lowered by lazy compilation.
    for (const path of ["/healthz", "/modules"]) await (await fetch(flowgate.url + path)).text();
    const baseline = residentKib(flowgate.pid);
    let peak = baseline;
    const sample = () => {
      peak = Math.max(peak, residentKib(flowgate.pid));
    };

    const started = Date.now();
    const held: HeldConnection[] = [];
    try {
      for (const route of routes) {
        for (let i = 0; i < CONNECTIONS_PER_ROUTE; i++) {
          held.push(await hold(flowgate.port, route));
        }
      }
      const answered = await waitWhileSampling(
        () => held.every((connection) => connection.answeredAt !== undefined),
        sample,
        IDLE_TIMEOUT_MS + 10_000,
      );
      const growth = peak - baseline;
      assert.ok(
        growth < MAX_GROWTH_KIB,
        `RSS grew by ${Math.round(growth / 1_024)} MiB (from ${Math.round(baseline / 1_024)} MiB)`,
      );
      const unanswered = held.filter((connection) => connection.answeredAt === undefined);
      assert.ok(answered, `${unanswered.length} connections unanswered`);
      // Refused connections are closed by the server right after their answer.
      const closed = await waitWhileSampling(
        () =>
          held.every((connection) =>
            !connection.route.closedAfterAnswer || connection.closedAt !== undefined
          ),
        sample,
        10_000,
      );
      const open = held.filter((connection) =>
        connection.route.closedAfterAnswer && connection.closedAt === undefined
      );
      assert.ok(closed, `${open.length} refused connections left open: ${open[0]?.route.name}`);
    } finally {
      for (const connection of held) {
        try {
          connection.conn.close();
        } catch {
          // Already closed by the server.
        }
      }
    }

    for (const route of routes) {
      const ofRoute = held.filter((connection) => connection.route === route);
      for (const connection of ofRoute) {
        assert.equal(statusOf(connection), route.status, `${route.name}: ${connection.received}`);
      }
      const slowest = Math.max(...ofRoute.map((connection) => connection.answeredAt! - started));
      if (route.closedAfterAnswer) {
        // Refused from the headers alone: long before the idle timeout.
        assert.ok(slowest < IDLE_TIMEOUT_MS, `${route.name}: answered after ${slowest} ms`);
      } else {
        assert.ok(slowest >= IDLE_TIMEOUT_MS, `${route.name}: answered after ${slowest} ms`);
      }
    }
    for (const connection of held.filter((held) => held.route.path === "/query")) {
      assert.match(connection.received, /\{"error":"Request body timed out/);
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  },
});
