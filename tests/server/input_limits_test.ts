/**
 * Issue 10: unusual but valid input gets a clear 4xx (or, on MISP's `/query`, a 200 with MISP's
 * error shape), never a 5xx; and no body is read before the caller is authenticated.
 */

import assert from "node:assert/strict";
import { MAX_NODES, MAX_WORKFLOW_BYTES } from "../../engine/limits.ts";
import { setLogSink } from "../../engine/log.ts";
import { offlineServices } from "../../modules/offline_services.ts";
import { ensureAdminToken } from "../../store/admin_token.ts";
import { clientErrorMessage, createApp, errorResponse } from "../../server/app.ts";
import { createAppContext } from "../../services/context.ts";
import { BodyTimeoutError, BodyTooLargeError } from "../../server/body.ts";
import { ADMIN_API_BODY_BYTES } from "../../server/body_limits.ts";
import { loadConfig } from "../../services/config.ts";
import { ApprovalRefusedError } from "../../services/approval_policy.ts";
import { Metrics } from "../../services/metrics.ts";
import { MAX_CURSOR_CHARS, MAX_ID_BYTES } from "../../server/routes/params.ts";
import {
  ADMIN_TOKEN,
  HOOK_TOKEN,
  importRedBlueprint,
  LOOPBACK_ENV,
  mispQuery,
  realEvent,
  startTestApp,
  type TestApp,
} from "./test_app.ts";

const LONG_ID = "a".repeat(10_000);
const BLOCKING_MODULE = "flowgate_enrichment_before_query";

/** A JSON object nested `depth` levels deep through its `a` member. */
function nestedObject(depth: number): string {
  return '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

/** A body stream that records whether anyone read from it. */
function watchedBody(size = 16): { body: ReadableStream<Uint8Array>; pulled: () => boolean } {
  let pulled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled = true;
      controller.enqueue(new Uint8Array(size).fill(0x20));
      controller.close();
    },
  }, { highWaterMark: 0 });
  return { body, pulled: () => pulled };
}

/** A body stream that sends one byte and then nothing. */
function stallingBody(): ReadableStream<Uint8Array> {
  let sent = false;
  let release: (() => void) | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(new TextEncoder().encode("{"));
        return;
      }
      await new Promise<void>((resolve) => release = resolve);
    },
    cancel() {
      release?.();
    },
  }, { highWaterMark: 0 });
}

function streamInit(
  body: ReadableStream<Uint8Array>,
  headers: Record<string, string>,
  method = "POST",
): RequestInit {
  return { method, headers, body, duplex: "half" } as RequestInit;
}

async function assertClientError(response: Response, pattern?: RegExp): Promise<string> {
  const text = await response.text();
  assert.ok(
    response.status >= 400 && response.status < 500,
    `expected a 4xx, got ${response.status}: ${text.slice(0, 300)}`,
  );
  if (pattern) assert.match(text, pattern);
  return text;
}

async function queryError(response: Response): Promise<string> {
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  const body = await response.json();
  assert.equal(typeof body.error, "string", `expected {"error"}, got ${JSON.stringify(body)}`);
  return body.error;
}

Deno.test("POST /query answers every failure 200 with MISP's error shape (never fails open)", async (t) => {
  await using test = await startTestApp({
    env: { FLOWGATE_MAX_BODY_BYTES: "4096", FLOWGATE_BODY_IDLE_TIMEOUT_MS: "50" },
  });
  await t.step("malformed JSON", async () => {
    const response = await test.request("/query", { method: "POST", body: '{"module":' });
    assert.match(await queryError(response), /not JSON/);
  });
  for (const body of ["[1,2]", '"text"', "null", "42"]) {
    await t.step(`not an object: ${body}`, async () => {
      const response = await test.request("/query", { method: "POST", body });
      assert.match(await queryError(response), /must be a JSON object/);
    });
  }
  await t.step("body over FLOWGATE_MAX_BODY_BYTES", async () => {
    const body = JSON.stringify({ module: BLOCKING_MODULE, data: { x: "y".repeat(5_000) } });
    const response = await test.request("/query", { method: "POST", body });
    assert.match(await queryError(response), /over the limit of 4096 bytes.*FLOWGATE_MAX_BODY/);
  });
  await t.step("declared Content-Length over the limit: refused unread", async () => {
    const { body, pulled } = watchedBody();
    const response = await test.request(
      "/query",
      streamInit(body, { "content-length": "33554432", "content-type": "application/json" }),
    );
    assert.match(await queryError(response), /over the limit/);
    assert.equal(pulled(), false);
  });
  await t.step("a body that stalls: idle timeout", async () => {
    const response = await test.request("/query", streamInit(stallingBody(), {}));
    assert.match(await queryError(response), /timed out.*FLOWGATE_BODY_IDLE_TIMEOUT_MS/);
  });
  await t.step("10,000 levels of nesting in data: answered, no crash", async () => {
    const body = `{"module":"${BLOCKING_MODULE}","data":${nestedObject(10_000)}}`;
    const response = await test.request("/query", { method: "POST", body });
    assert.equal(response.status, 200);
    const answer = await response.json();
    assert.ok("error" in answer || "data" in answer, JSON.stringify(answer));
  });
});

Deno.test("POST /query answers a block when deciding throws, and logs it as an error", async (t) => {
  await t.step("an exception inside the verdict path", async () => {
    /** Metrics whose run counter throws: an exception from deep inside `decideVerdict`. */
    class FailingMetrics extends Metrics {
      override recordRun(): void {
        throw new Error("metrics exploded");
      }
    }
    using kv = await Deno.openKv(":memory:");
    const env: Record<string, string> = { FLOWGATE_ADMIN_TOKEN: ADMIN_TOKEN };
    const config = loadConfig((name) => env[name]);
    await ensureAdminToken(kv, config.adminToken);
    const metrics = new FailingMetrics();
    const app = createApp(
      createAppContext({ kv, config, services: offlineServices(), metrics, proxy: null }),
    );
    const test = {
      admin: (path: string, init: RequestInit = {}) =>
        Promise.resolve(app.request(path, {
          ...init,
          headers: { ...init.headers, Authorization: `Bearer ${ADMIN_TOKEN}` },
        }, LOOPBACK_ENV)),
    } as unknown as TestApp;
    await importRedBlueprint(test);
    const lines: string[] = [];
    const previous = setLogSink((line) => lines.push(line));
    let response: Response;
    try {
      response = await app.request("/query", {
        method: "POST",
        body: JSON.stringify({ module: BLOCKING_MODULE, data: await realEvent() }),
      }, LOOPBACK_ENV);
    } finally {
      setLogSink(previous);
    }
    assert.match(await queryError(response), /failed while deciding.*refused/);
    const logged = lines.map((line) => JSON.parse(line));
    assert.ok(
      logged.some((line) => line.level === "error" && /metrics exploded/.test(line.error)),
      lines.join("\n"),
    );
    assert.match(metrics.render({ deadLetters: 0, workflowsEnabled: 1 }), /verdict="block"/);
  });
  await t.step("the store unreadable", async () => {
    const test = await startTestApp();
    await importRedBlueprint(test);
    test.kv.close();
    const previous = setLogSink(() => {});
    try {
      const response = await mispQuery(test, BLOCKING_MODULE, await realEvent({ tlpRed: true }));
      assert.match(await queryError(response), /blocked to be safe|refused/);
    } finally {
      setLogSink(previous);
    }
  });
});

Deno.test("No request body is read before the caller is authenticated", async (t) => {
  await using test = await startTestApp({
    env: {
      SLACK_BOT_TOKEN: "xoxb-test",
      SLACK_SIGNING_SECRET: "slack-signing-secret",
      TELEGRAM_BOT_TOKEN: "123:telegram-token",
      TELEGRAM_SECRET_TOKEN: "telegram-secret",
    },
  });
  const big = { "content-type": "application/json", "content-length": "33554432" };
  const cases: { name: string; path: string; status: number; headers?: Record<string, string> }[] =
    [
      { name: "hook without token", path: "/hooks/misp/event-publish", status: 401 },
      {
        name: "hook with a wrong token",
        path: "/hooks/misp/event-publish",
        status: 401,
        headers: { Authorization: "Bearer wrong-token-0123456789" },
      },
      { name: "admin API without token", path: "/api/workflows", status: 401 },
      { name: "admin API dry run without token", path: "/api/workflows/x/dry-run", status: 401 },
      { name: "Slack without signature", path: "/slack/events", status: 401 },
      {
        name: "Slack with a stale timestamp",
        path: "/slack/events",
        status: 401,
        headers: { "x-slack-signature": "v0=00", "x-slack-request-timestamp": "1000" },
      },
      { name: "Telegram without secret", path: "/telegram", status: 401 },
      {
        name: "Telegram with a wrong secret",
        path: "/telegram",
        status: 401,
        headers: { "X-Telegram-Bot-Api-Secret-Token": "not-the-secret" },
      },
      { name: "console form without session", path: "/workflows", status: 403 },
    ];
  for (const { name, path, status, headers } of cases) {
    await t.step(`${name}: ${status}`, async () => {
      const { body, pulled } = watchedBody();
      const response = await test.request(path, streamInit(body, { ...big, ...headers }));
      assert.equal(response.status, status, await response.clone().text());
      await response.body?.cancel();
      assert.equal(pulled(), false, "the body was read");
    });
  }
  await t.step("/query from an address outside FLOWGATE_MISP_ALLOW: MISP's error", async () => {
    const { body, pulled } = watchedBody();
    const response = await test.app.request("/query", streamInit(body, big), {
      remoteAddr: { hostname: "203.0.113.9", port: 1, transport: "tcp" },
    });
    assert.equal(response.status, 200);
    assert.match((await response.json()).error, /FLOWGATE_MISP_ALLOW/);
    assert.equal(pulled(), false);
  });
});

Deno.test("Each route caps its body: 413 naming the limit", async (t) => {
  await using test = await startTestApp({
    env: {
      SLACK_BOT_TOKEN: "xoxb-test",
      SLACK_SIGNING_SECRET: "slack-signing-secret",
    },
  });
  await t.step("admin API: 2 MiB, refused from the declared length unread", async () => {
    const { body, pulled } = watchedBody();
    const response = await test.admin(
      "/api/workflows",
      streamInit(body, { "content-length": String(ADMIN_API_BODY_BYTES + 1) }),
    );
    assert.equal(response.status, 413);
    assert.match(
      (await response.json()).error,
      /over the limit of 2097152 bytes for admin API requests/,
    );
    assert.equal(pulled(), false);
  });
  await t.step("admin API: 2 MiB, counted when no length is declared", async () => {
    const response = await test.admin("/api/chat/roles", {
      method: "PUT",
      body: JSON.stringify({ pad: "x".repeat(ADMIN_API_BODY_BYTES) }),
    });
    assert.equal(response.status, 413);
  });
  await t.step("Slack: 1 MiB", async () => {
    const { body, pulled } = watchedBody();
    const response = await test.request(
      "/slack/events",
      streamInit(body, {
        "content-length": "1048577",
        "x-slack-signature": "v0=00",
        "x-slack-request-timestamp": String(Math.floor(Date.now() / 1_000)),
      }),
    );
    assert.equal(response.status, 413);
    assert.match((await response.json()).error, /1048576 bytes for chat webhooks/);
    assert.equal(pulled(), false);
  });
  await t.step("console sign-in form: 16 KiB", async () => {
    const response = await test.request("/sign-in", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${"x".repeat(20_000)}`,
    });
    assert.equal(response.status, 413);
    assert.match(response.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await response.text(), /16384 bytes for the sign-in form/);
  });
});

Deno.test("Request bodies that stall get 408 on the API and hooks", async (t) => {
  await using test = await startTestApp({ env: { FLOWGATE_BODY_IDLE_TIMEOUT_MS: "50" } });
  await t.step("admin API", async () => {
    const response = await test.admin("/api/workflows", streamInit(stallingBody(), {}));
    assert.equal(response.status, 408);
    assert.match((await response.json()).error, /FLOWGATE_BODY_IDLE_TIMEOUT_MS/);
  });
  await t.step("hooks", async () => {
    const response = await test.request(
      "/hooks/misp/event-publish",
      streamInit(stallingBody(), { Authorization: `Bearer ${HOOK_TOKEN}` }),
    );
    assert.equal(response.status, 408);
  });
});

Deno.test("10,000-character ids and filters get 400, not a KV error", async (t) => {
  await using test = await startTestApp();
  const routes: [string, string][] = [
    ["GET", `/api/workflows/${LONG_ID}`],
    ["PUT", `/api/workflows/${LONG_ID}`],
    ["DELETE", `/api/workflows/${LONG_ID}`],
    ["POST", `/api/workflows/${LONG_ID}/enable`],
    ["POST", `/api/workflows/${LONG_ID}/disable`],
    ["GET", `/api/workflows/${LONG_ID}/versions`],
    ["GET", `/api/workflows/${LONG_ID}/versions/1`],
    ["POST", `/api/workflows/${LONG_ID}/dry-run`],
    ["GET", `/api/runs/${LONG_ID}`],
    ["GET", `/api/runs/${LONG_ID}/input`],
    ["POST", `/api/runs/${LONG_ID}/replay`],
    ["GET", `/api/approvals/${LONG_ID}`],
    ["POST", `/api/approvals/${LONG_ID}/approve`],
    ["POST", `/api/approvals/${LONG_ID}/deny`],
    ["DELETE", `/api/dead-letters/${LONG_ID}`],
  ];
  for (const [method, path] of routes) {
    await t.step(`${method} ${path.replace(LONG_ID, "<10,000 chars>")}`, async () => {
      const response = await test.admin(path, {
        method,
        ...(method === "POST" || method === "PUT" ? { body: "{}" } : {}),
      });
      assert.equal(response.status, 400);
      assert.match((await response.json()).error, new RegExp(`the limit is ${MAX_ID_BYTES}`));
    });
  }
  for (
    const path of [
      `/api/runs?workflow=${LONG_ID}`,
      `/api/runs?trigger=${LONG_ID}`,
      `/api/runs?event=${LONG_ID}`,
      `/api/approvals?event=${LONG_ID}`,
      `/api/approvals?workflow=${LONG_ID}`,
      `/api/workflows?trigger=${LONG_ID}`,
    ]
  ) {
    await t.step(`GET ${path.replace(LONG_ID, "<10,000 chars>")}`, async () => {
      await assertClientError(await test.admin(path), /filter/);
    });
  }
  await t.step("a 10,000-character workflow name: 4xx", async () => {
    const yaml = `name: ${"a".repeat(10_000)}\ntrigger: event-publish\nnodes:\n` +
      "  stop: { module: stop-execution, params: { message: x } }\n";
    const response = await test.admin("/api/workflows", {
      method: "POST",
      headers: { "content-type": "application/yaml" },
      body: yaml,
    });
    await assertClientError(response);
  });
});

Deno.test('Malformed cursors get 400 "Invalid cursor" on every list route', async (t) => {
  await using test = await startTestApp();
  for (const list of ["/api/runs", "/api/audit", "/api/dead-letters"]) {
    for (
      const cursor of ["garbage", "%25%25%25", "AAAA!", "A".repeat(MAX_CURSOR_CHARS + 1), "eHh4"]
    ) {
      await t.step(`${list}?cursor=${cursor.slice(0, 12)}`, async () => {
        const response = await test.admin(`${list}?cursor=${cursor}`);
        if (response.status === 200) {
          // A well-formed cursor KV accepts may just end the list.
          assert.ok(Array.isArray((await response.json()).items));
          return;
        }
        assert.equal(response.status, 400);
        assert.match((await response.json()).error, /Invalid cursor/);
      });
    }
  }
  await t.step("a well-formed cursor of a 2 KiB key: 400 too", async () => {
    const cursor = btoa("x".repeat(2_040)).replaceAll("=", "");
    const response = await test.admin(`/api/audit?cursor=${cursor}`);
    assert.equal(response.status, 400);
    assert.match((await response.json()).error, /Invalid cursor/);
  });
});

Deno.test("Oversized workflows: 413 over MAX_WORKFLOW_BYTES, 400 over MAX_NODES", async (t) => {
  await using test = await startTestApp();
  await t.step("a 2 MB workflow", async () => {
    const yaml = `name: big\ntrigger: event-publish\nnodes:\n` +
      "  stop: { module: stop-execution, params: { message: x } }\n" +
      `# ${"x".repeat(2_000_000)}\n`;
    const response = await test.admin("/api/workflows", {
      method: "POST",
      headers: { "content-type": "application/yaml" },
      body: yaml,
    });
    assert.equal(response.status, 413);
    assert.match((await response.json()).error, new RegExp(`the limit is ${MAX_WORKFLOW_BYTES}`));
  });
  await t.step("a workflow of 501 nodes", async () => {
    const nodes = Array.from(
      { length: MAX_NODES + 1 },
      (_, i) => `  n${i}: { module: stop-execution, params: { message: x } }`,
    );
    const response = await test.admin("/api/workflows", {
      method: "POST",
      headers: { "content-type": "application/yaml" },
      body: `name: big\ntrigger: event-publish\nnodes:\n${nodes.join("\n")}\n`,
    });
    assert.equal(response.status, 400);
    assert.match((await response.json()).error, new RegExp(`the limit is ${MAX_NODES}`));
  });
});

Deno.test("Hooks take 3,000-character uuids and timestamps without a KV key error", async (t) => {
  await using test = await startTestApp();
  const post = (body: unknown) =>
    test.request("/hooks/misp/event-publish", {
      method: "POST",
      headers: { Authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  for (const field of ["uuid", "timestamp"] as const) {
    await t.step(`Event.${field}`, async () => {
      const event = await realEvent();
      (event.Event as Record<string, unknown>)[field] = "9".repeat(3_000);
      const first = await post(event);
      assert.equal(first.status, 202, await first.clone().text());
      assert.equal((await first.json()).duplicate, false);
      const resend = await post(event);
      assert.equal(resend.status, 202);
      assert.equal((await resend.json()).duplicate, true, "the resend is still de-duplicated");
    });
  }
});

Deno.test("10,000 levels of nesting get a 4xx (or MISP's shape), never a 5xx, on every route", async (t) => {
  await using test = await startTestApp({ approvals: true });
  const workflowId = await importRedBlueprint(test);
  const nested = nestedObject(10_000);
  const json = { "content-type": "application/json" };
  const cases: [string, string, string, (path: string, init: RequestInit) => Promise<Response>][] =
    [
      ["POST", "/api/workflows", nested, test.admin],
      ["PUT", `/api/workflows/${workflowId}`, nested, test.admin],
      ["POST", `/api/workflows/${workflowId}/dry-run`, nested, test.admin],
      ["POST", `/api/workflows/${workflowId}/disable`, nested, test.admin],
      ["POST", "/api/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV/replay", nested, test.admin],
      ["POST", "/api/approvals/01ARZ3NDEKTSV4RRFFQ69G5FAV/approve", nested, test.admin],
      ["PUT", "/api/chat/roles", nested, test.admin],
      ["PUT", "/api/chat/chats", nested, test.admin],
      ["POST", "/hooks/misp/event-publish", nested, (path, init) =>
        test.request(path, {
          ...init,
          headers: { ...init.headers, Authorization: `Bearer ${HOOK_TOKEN}` },
        })],
    ];
  for (const [method, path, body, send] of cases) {
    await t.step(`${method} ${path}`, async () => {
      const response = await send(path, { method, headers: json, body });
      const text = await response.text();
      assert.ok(response.status < 500, `${response.status}: ${text.slice(0, 300)}`);
    });
  }
  await t.step("POST /query", async () => {
    const response = await test.request("/query", {
      method: "POST",
      body: `{"module":"${BLOCKING_MODULE}","data":{"Event":${nested}}}`,
    });
    assert.equal(response.status, 200);
  });
});

Deno.test("Console forms that cannot be parsed get 400, not 500", async (t) => {
  await using test = await startTestApp();
  for (
    const [label, type, body] of [
      ["multipart without a boundary", "multipart/form-data", "--x\r\nContent-Disposition"],
      ["truncated multipart", "multipart/form-data; boundary=XYZ", "--XYZ\r\nContent-Dis"],
    ]
  ) {
    await t.step(label!, async () => {
      const response = await test.request("/sign-in", {
        method: "POST",
        headers: { "content-type": type!, Cookie: "__Host-flowgate_signin=abc" },
        body: body!,
      });
      await assertClientError(
        response,
        label === "multipart without a boundary" ? /form body could not be read/ : undefined,
      );
    });
  }
});

Deno.test("errorResponse() maps client errors thrown from deep inside to 4xx", async (t) => {
  await t.step("body errors: 413 and 408", () => {
    assert.equal(errorResponse(new BodyTooLargeError({ maxBytes: 10 })).status, 413);
    assert.equal(errorResponse(new BodyTimeoutError("idle", 10)).status, 408);
  });
  await t.step("a stack overflow from nesting: 400 nested too deeply", () => {
    let overflow: unknown;
    const recurse = (n: number): number => recurse(n + 1) + 1;
    try {
      recurse(0);
    } catch (error) {
      overflow = error;
    }
    const { status, body } = errorResponse(overflow);
    assert.equal(status, 400);
    assert.match((body as { error: string }).error, /nested too deeply/);
  });
  await t.step("KV's key and cursor refusals: 400", async () => {
    using kv = await Deno.openKv(":memory:");
    const keyError = await kv.get(["x", "y".repeat(3_000)]).catch((error) => error);
    assert.equal(errorResponse(keyError).status, 400);
    assert.match(clientErrorMessage(keyError)!, /too long/);
    const cursorError = await (async () => {
      for await (const _ of kv.list({ prefix: ["x"] }, { cursor: "garbage" })) {
        // Nothing to list.
      }
    })().catch((error) => error);
    assert.equal(errorResponse(cursorError).status, 400);
    assert.match(clientErrorMessage(cursorError)!, /Invalid cursor/);
  });
  await t.step("an approval refused by policy: 403", () => {
    const error = new ApprovalRefusedError("01APPROVAL", "Refused");
    assert.equal(errorResponse(error).status, 403);
  });
  await t.step("our own bugs stay 500", () => {
    assert.equal(errorResponse(new TypeError("x is undefined")).status, 500);
    assert.equal(errorResponse(new RangeError("Invalid array length")).status, 500);
  });
});
