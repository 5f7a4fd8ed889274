/**
 * Adversarial: malformed, oversized and deeply nested bodies, garbage content types, 10,000-char
 * ids and garbage cursors on every route of `createApp`. Nothing may answer 5xx; `/query` (MISP
 * allows on any non-2xx answer) must answer every failure with 200 and `{"error": "…"}`.
 */

import assert from "node:assert/strict";
import { createMispClient } from "../../modules/action/lib/misp_client.ts";
import { createQueueHandler } from "../../services/queue.ts";
import {
  chatEnv,
  SIGNING_SECRET,
  SLACK_TOKEN,
  slackSignature,
  TELEGRAM_SECRET,
  TELEGRAM_TOKEN,
} from "../bot/chat_harness.ts";
import { startFakeMisp } from "../fakes/misp_server.ts";
import { startSlackApi } from "../fakes/slack_api.ts";
import { startTelegramApi } from "../fakes/telegram_api.ts";
import {
  ADMIN_TOKEN,
  HOOK_TOKEN,
  LOOPBACK_ENV,
  startTestApp,
  type TestApp,
} from "../server/test_app.ts";
import {
  type Answer,
  ConsoleClient,
  describeAnswer,
  jsonRouteProblem,
  pollUntil,
  queryBlockProblem,
  queryBody,
  readAnswer,
  README_WORKFLOW_YAML,
  saveWorkflowYaml,
  tlpRedEvent,
} from "./harness.ts";

const MIB = 1_048_576;
/** `FLOWGATE_MAX_BODY_BYTES` of these apps, so that a 2.5 MB body is over the /query and /hooks cap. */
const QUERY_HOOK_CAP = MIB;
/** Over every per-route cap: admin API 2 MiB, chat 1 MiB, /query and /hooks 1 MiB here. */
const OVERSIZE_BYTES = 2 * MIB + 512 * 1_024;
const DEPTH = 10_000;
const LONG_ID = "a".repeat(10_000);
const TELEGRAM_CHAT = "-1001234";

/** Bodies no route should choke on. */
const MALFORMED_BODIES: { label: string; body: string | Uint8Array<ArrayBuffer> }[] = [
  { label: "an empty body", body: "" },
  { label: "null", body: "null" },
  { label: "an empty array", body: "[]" },
  { label: "an array of numbers", body: "[1,2,3]" },
  { label: "a JSON string", body: '"flowgate"' },
  { label: "a number", body: "42" },
  { label: "true", body: "true" },
  { label: "a truncated object", body: '{"module": "flowgate_event_publish", "data": {' },
  { label: "a lone brace", body: "{" },
  { label: "XML", body: "<event><info>x</info></event>" },
  {
    label: "invalid UTF-8",
    body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
  },
  { label: "NUL bytes", body: "\u0000\u0000\u0000" },
  { label: "a BOM then {}", body: "\uFEFF{}" },
  { label: "an empty object", body: "{}" },
  {
    label: "prototype keys",
    body: '{"__proto__": {"admin": true}, "constructor": {"prototype": 1}}',
  },
  { label: "a 10,000-level nested object", body: `${'{"a":'.repeat(DEPTH)}1${"}".repeat(DEPTH)}` },
  { label: "a 10,000-level nested array", body: `${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}` },
];

/** Content types sent with each malformed body (undefined: no header). */
const CONTENT_TYPES = [
  undefined,
  "application/json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "application/yaml",
  "application/json; charset=utf-16",
];

/** How a route's answers are judged. */
type RouteKind = "query" | "json" | "chat" | "console";

/** One route taking a body, with the credentials it needs. */
interface BodyRoute {
  method: string;
  path: string;
  kind: RouteKind;
  headers?: Record<string, string>;
  /** Console form routes: send the session cookie (and, in form bodies, the CSRF token). */
  session?: boolean;
}

interface RouteApp extends AsyncDisposable {
  test: TestApp;
  browser: ConsoleClient;
  workflowId: string;
  runId: string;
}

/** A test app with every integration the routes need on local fakes, and one workflow and run. */
async function startRouteApp(): Promise<RouteApp> {
  const slack = startSlackApi({ token: SLACK_TOKEN });
  const telegram = startTelegramApi({ token: TELEGRAM_TOKEN, chats: [TELEGRAM_CHAT] });
  const misp = await startFakeMisp({ events: [] });
  const client = createMispClient({ url: misp.url, apiKey: misp.apiKey, tlsVerify: true });
  const test = await startTestApp({
    services: { misp: client },
    approvals: true,
    env: {
      FLOWGATE_MAX_BODY_BYTES: String(QUERY_HOOK_CAP),
      ...chatEnv(slack, telegram),
    },
  });
  const workflowId = await saveWorkflowYaml(test, README_WORKFLOW_YAML);
  const verdict = await test.request("/query", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: queryBody("flowgate_event_publish", await tlpRedEvent()),
  });
  await verdict.body?.cancel();
  const [runId] = await listRunIds(test);
  assert.ok(runId, `The setup /query stored no run (answered ${verdict.status})`);
  const browser = new ConsoleClient(test);
  await browser.signIn();
  return {
    test,
    browser,
    workflowId,
    runId,
    async [Symbol.asyncDispose]() {
      await test[Symbol.asyncDispose]();
      await slack.close();
      await telegram.close();
      await misp[Symbol.asyncDispose]();
    },
  };
}

async function listRunIds(test: TestApp): Promise<string[]> {
  const page = await (await test.admin("/api/runs")).json();
  return page.items.map((run: { id: string }) => run.id);
}

/** Sends one request to the whole app the way its kind needs (credentials, session). */
async function send(
  app: RouteApp,
  route: BodyRoute,
  body: BodyInit | undefined,
  extraHeaders: Record<string, string> = {},
): Promise<Answer> {
  const headers = new Headers({ ...route.headers, ...extraHeaders });
  const init: RequestInit = {
    method: route.method,
    headers,
    ...(body === undefined ? {} : { body }),
  };
  if (route.session) return await readAnswer(await app.browser.request(route.path, init));
  return await readAnswer(await app.test.app.request(route.path, init, LOOPBACK_ENV));
}

/** The problem with an answer given the route's kind, or undefined. */
function problemOf(kind: RouteKind, answer: Answer): string | undefined {
  if (kind === "query") return queryBlockProblem(answer);
  if (kind === "json") return jsonRouteProblem(answer);
  if (answer.status >= 500) return `5xx: ${describeAnswer(answer.status, answer.text)}`;
  return undefined;
}

/** Every body-taking route, with valid credentials (so the body is what is tested). */
function bodyRoutes(app: RouteApp): BodyRoute[] {
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  const hook = { Authorization: `Bearer ${HOOK_TOKEN}` };
  const { workflowId: wf, runId: run } = app;
  const approval = "01J00000000000000000000000";
  return [
    { method: "POST", path: "/query", kind: "query" },
    { method: "POST", path: "/hooks/misp/event-publish", kind: "json", headers: hook },
    { method: "PUT", path: "/hooks/misp/event-after-save", kind: "json", headers: hook },
    { method: "POST", path: "/api/workflows", kind: "json", headers: admin },
    { method: "PUT", path: `/api/workflows/${wf}`, kind: "json", headers: admin },
    { method: "POST", path: `/api/workflows/${wf}/enable`, kind: "json", headers: admin },
    { method: "POST", path: `/api/workflows/${wf}/disable`, kind: "json", headers: admin },
    { method: "POST", path: `/api/workflows/${wf}/dry-run`, kind: "json", headers: admin },
    { method: "POST", path: `/api/runs/${run}/replay`, kind: "json", headers: admin },
    { method: "PUT", path: "/api/chat/roles", kind: "json", headers: admin },
    { method: "PUT", path: "/api/chat/chats", kind: "json", headers: admin },
    { method: "POST", path: `/api/approvals/${approval}/approve`, kind: "json", headers: admin },
    { method: "POST", path: `/api/approvals/${approval}/deny`, kind: "json", headers: admin },
    {
      method: "POST",
      path: "/telegram",
      kind: "chat",
      headers: { "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET },
    },
    { method: "POST", path: "/sign-in", kind: "console", headers: { Origin: "http://localhost" } },
    {
      method: "POST",
      path: `/workflows/${wf}/dry-run`,
      kind: "console",
      session: true,
      headers: { Origin: "http://localhost" },
    },
    {
      method: "POST",
      path: `/workflows/${wf}/enable`,
      kind: "console",
      session: true,
      headers: { Origin: "http://localhost" },
    },
    {
      method: "POST",
      path: `/runs/${run}/replay`,
      kind: "console",
      session: true,
      headers: { Origin: "http://localhost" },
    },
    {
      method: "POST",
      path: `/approvals/${approval}`,
      kind: "console",
      session: true,
      headers: { Origin: "http://localhost" },
    },
  ];
}

/** Signs a Slack body as Slack does, with the current time. */
async function slackHeaders(body: string, contentType = "application/json") {
  const timestamp = Math.floor(Date.now() / 1_000);
  return {
    "Content-Type": contentType,
    "X-Slack-Request-Timestamp": String(timestamp),
    "X-Slack-Signature": await slackSignature(SIGNING_SECRET, timestamp, body),
  };
}

/** Groups the content types that met the same problem, so one cause makes one line. */
class ContentTypesByProblem {
  readonly #types = new Map<string, string[]>();

  add(problem: string | undefined, type: string | undefined): void {
    if (problem === undefined) return;
    const types = this.#types.get(problem) ?? [];
    types.push(type ?? "no content type");
    this.#types.set(problem, types);
  }

  lines(subject: string): string[] {
    return [...this.#types].map(([problem, types]) =>
      `${subject} as ${types.join(", ")}: ${problem}`
    );
  }
}

/** Most violations quoted in one failure message. */
const QUOTED_VIOLATIONS = 40;

function fail(violations: string[]): void {
  const quoted = violations.slice(0, QUOTED_VIOLATIONS);
  if (violations.length > quoted.length) {
    quoted.push(`… and ${violations.length - quoted.length} more`);
  }
  assert.equal(
    violations.length,
    0,
    `${violations.length} answer(s) broke the contract:\n  ${quoted.join("\n  ")}`,
  );
}

Deno.test("POST /query answers every malformed request with 200 and an error, never allow", async () => {
  await using app = await startRouteApp();
  const violations: string[] = [];
  const route: BodyRoute = { method: "POST", path: "/query", kind: "query" };
  for (const { label, body } of MALFORMED_BODIES) {
    const byProblem = new ContentTypesByProblem();
    for (const type of CONTENT_TYPES) {
      const answer = await send(app, route, body, type ? { "Content-Type": type } : {});
      byProblem.add(queryBlockProblem(answer), type);
    }
    violations.push(...byProblem.lines(label));
  }
  const red = await tlpRedEvent();
  const requests: { label: string; body: unknown }[] = [
    { label: "no module", body: { data: red } },
    { label: "no data", body: { module: "flowgate_event_publish" } },
    { label: "data null", body: { module: "flowgate_event_publish", data: null } },
    { label: "data an array", body: { module: "flowgate_event_publish", data: [red] } },
    { label: "data a string", body: { module: "flowgate_event_publish", data: "tlp:red" } },
    { label: "data a number", body: { module: "flowgate_event_publish", data: 1 } },
    { label: "data an empty object", body: { module: "flowgate_event_publish", data: {} } },
    { label: "module a number", body: { module: 7, data: red } },
    { label: "module an object", body: { module: { name: "flowgate_event_publish" }, data: red } },
    { label: "unknown module", body: { module: "flowgate_event_explode", data: red } },
    { label: "a 10,000-char module", body: { module: LONG_ID, data: red } },
    { label: "data without an Event", body: { module: "flowgate_event_publish", data: { a: 1 } } },
    {
      label: "Event null",
      body: { module: "flowgate_event_publish", data: { Event: null } },
    },
    {
      label: "Event an array",
      body: { module: "flowgate_event_publish", data: { Event: [red.Event] } },
    },
    {
      label: "Event.Attribute a string",
      body: {
        module: "flowgate_event_publish",
        data: { Event: { ...(red.Event as object), Attribute: "x" } },
      },
    },
  ];
  for (const { label, body } of requests) {
    const answer = await send(app, route, JSON.stringify(body), {
      "Content-Type": "application/json",
    });
    const problem = queryBlockProblem(answer);
    if (problem) violations.push(`${label}: ${problem}`);
  }
  // Garbage around an intact tlp:red event: whatever else happens, the event is blocked.
  const deep = JSON.parse(`${'{"a":'.repeat(DEPTH)}1${"}".repeat(DEPTH)}`);
  const tlpRedWith: { label: string; data: Record<string, unknown> }[] = [
    { label: "a 10,000-level nested Event field", data: withEvent(red, { nested: deep }) },
    { label: "a 10,000-level nested top-level key", data: { ...red, nested: deep } },
    { label: "3,000-char uuid and timestamps", data: withEvent(red, longIdentity()) },
  ];
  for (const { label, data } of tlpRedWith) {
    for (const type of ["application/json", "text/plain", undefined]) {
      const answer = await send(app, route, queryBody("flowgate_event_publish", data), {
        ...(type ? { "Content-Type": type } : {}),
      });
      const problem = queryBlockProblem(answer);
      if (problem) violations.push(`tlp:red event with ${label}, ${type ?? "no type"}: ${problem}`);
    }
  }
  fail(violations);
});

function withEvent(data: Record<string, unknown>, extra: Record<string, unknown>) {
  return { ...data, Event: { ...(data.Event as Record<string, unknown>), ...extra } };
}

/** 3,000-character uuids and timestamps, as an attacker (or a broken MISP) could send. */
function longIdentity(): Record<string, unknown> {
  return {
    uuid: "5c6ab833-".repeat(334).slice(0, 3_000),
    timestamp: "9".repeat(3_000),
    publish_timestamp: "1".repeat(3_000),
    date: "2024-".repeat(600),
    id: "7".repeat(3_000),
  };
}

Deno.test("body-taking routes answer malformed bodies and content types with a 4xx, never 5xx", async () => {
  await using app = await startRouteApp();
  const violations: string[] = [];
  for (const route of bodyRoutes(app)) {
    if (route.kind === "query") continue; // the test above
    for (const { label, body } of MALFORMED_BODIES) {
      const byProblem = new ContentTypesByProblem();
      for (const type of CONTENT_TYPES) {
        const answer = await send(app, route, body, type ? { "Content-Type": type } : {});
        byProblem.add(problemOf(route.kind, answer), type);
      }
      violations.push(...byProblem.lines(`${route.method} ${route.path}: ${label}`));
    }
  }
  fail(violations);
});

Deno.test("console forms with a valid session and CSRF token survive garbage fields", async () => {
  await using app = await startRouteApp();
  const violations: string[] = [];
  const deep = `${'{"a":'.repeat(DEPTH)}1${"}".repeat(DEPTH)}`;
  const forms: { path: string; fields: Record<string, string> }[] = [
    ...["null", "[]", "{", deep, `${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}`, "42", "{}"].map(
      (event) => ({ path: `/workflows/${app.workflowId}/dry-run`, fields: { event } }),
    ),
    { path: `/runs/${app.runId}/replay`, fields: { mode: LONG_ID, dry: "maybe" } },
    { path: `/runs/${LONG_ID}/replay`, fields: { mode: "original" } },
    { path: `/approvals/${LONG_ID}`, fields: { decision: "approve" } },
    { path: "/approvals/01J00000000000000000000000", fields: { decision: LONG_ID } },
    { path: `/workflows/${LONG_ID}/disable`, fields: {} },
    { path: `/workflows/${app.workflowId}/dry-run`, fields: { event_file: "not a file" } },
  ];
  for (const { path, fields } of forms) {
    const answer = await readAnswer(
      await app.browser.request(path, {
        method: "POST",
        headers: { Origin: "http://localhost" },
        body: new URLSearchParams({ _csrf: app.browser.csrf, ...fields }),
      }),
    );
    if (answer.status >= 500) {
      violations.push(
        `POST ${path.slice(0, 80)} ${JSON.stringify(fields).slice(0, 80)}: ${
          describeAnswer(answer.status, answer.text)
        }`,
      );
    }
  }
  // A multipart body cut short and one with no boundary.
  for (
    const [label, type, body] of [
      ["multipart without a boundary", "multipart/form-data", "--x\r\nContent-Disposition"],
      [
        "truncated multipart",
        "multipart/form-data; boundary=XYZ",
        '--XYZ\r\nContent-Disposition: form-data; name="event"\r\n\r\n{',
      ],
    ]
  ) {
    const answer = await readAnswer(
      await app.browser.request(`/workflows/${app.workflowId}/dry-run`, {
        method: "POST",
        headers: { Origin: "http://localhost", "Content-Type": type! },
        body: body!,
      }),
    );
    if (answer.status >= 500) {
      violations.push(`dry-run form, ${label}: ${describeAnswer(answer.status, answer.text)}`);
    }
  }
  fail(violations);
});

Deno.test("bodies over the per-route cap get 413 (200 with an error on /query), never 5xx", async () => {
  await using app = await startRouteApp();
  const violations: string[] = [];
  const big = JSON.stringify({ module: "flowgate_event_publish", pad: "x".repeat(OVERSIZE_BYTES) });
  const expected: Record<string, number[]> = {
    query: [200],
    json: [413],
    chat: [413],
    console: [413, 400, 403],
  };
  for (const route of bodyRoutes(app)) {
    for (const framing of ["Content-Length", "a stream without Content-Length"] as const) {
      const bytes = new TextEncoder().encode(big);
      const body = framing === "Content-Length" ? bytes : streamOf(bytes);
      const headers: Record<string, string> = { "Content-Type": "application/json" };
      if (framing === "Content-Length") headers["Content-Length"] = String(bytes.length);
      const answer = await send(app, route, body, headers);
      const problem = problemOf(route.kind, answer) ??
        (expected[route.kind]!.includes(answer.status)
          ? undefined
          : `expected ${expected[route.kind]!.join(" or ")}, got ${
            describeAnswer(answer.status, answer.text)
          }`);
      if (problem) violations.push(`${route.method} ${route.path} with ${framing}: ${problem}`);
    }
  }
  await app.browser.page("/sign-in");
  for (const size of [20_000, OVERSIZE_BYTES]) {
    const answer = await readAnswer(
      await app.browser.request("/sign-in", {
        method: "POST",
        headers: { Origin: "http://localhost" },
        body: new URLSearchParams({ _csrf: app.browser.csrf, token: "t".repeat(size) }),
      }),
    );
    if (answer.status !== 413) {
      violations.push(
        `POST /sign-in with a ${size}-byte form (cap 16 KiB): expected 413, got ${
          describeAnswer(answer.status, answer.text)
        }`,
      );
    }
  }
  for (const signed of [true, false]) {
    const body = JSON.stringify({
      type: "url_verification",
      challenge: "c".repeat(OVERSIZE_BYTES),
    });
    const headers = signed ? await slackHeaders(body) : { "Content-Type": "application/json" };
    const answer = await readAnswer(
      await app.test.app.request("/slack/events", { method: "POST", headers, body }, LOOPBACK_ENV),
    );
    const allowed = signed ? [413] : [401, 413];
    if (!allowed.includes(answer.status)) {
      violations.push(
        `POST /slack/events ${signed ? "signed" : "unsigned"} over 1 MiB: expected ${
          allowed.join(" or ")
        }, got ${describeAnswer(answer.status, answer.text)}`,
      );
    }
  }
  fail(violations);
});

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  const chunk = 65_536;
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

Deno.test("credentials and the MISP allowlist are checked before any body byte is read", async () => {
  await using app = await startRouteApp();
  const violations: string[] = [];
  const outsider = { remoteAddr: { hostname: "203.0.113.9", port: 40_000, transport: "tcp" } };
  const cases: { label: string; path: string; env: typeof LOOPBACK_ENV; allowed: number[] }[] = [
    {
      label: "/hooks without a token",
      path: "/hooks/misp/event-publish",
      env: LOOPBACK_ENV,
      allowed: [401],
    },
    {
      label: "/api/workflows without a token",
      path: "/api/workflows",
      env: LOOPBACK_ENV,
      allowed: [401],
    },
    { label: "/slack/events unsigned", path: "/slack/events", env: LOOPBACK_ENV, allowed: [401] },
    { label: "/telegram without the secret", path: "/telegram", env: LOOPBACK_ENV, allowed: [401] },
    // MISP treats a non-2xx as allow, so an outsider may get 403 or a 200 error, never a verdict.
    {
      label: "/query from outside the allowlist",
      path: "/query",
      env: outsider,
      allowed: [403, 200],
    },
  ];
  for (const { label, path, env, allowed } of cases) {
    // A body that never ends: a route that waits for it never answers.
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("{"));
      },
      cancel() {
        cancelled = true;
      },
    });
    const pending = Promise.resolve(
      app.test.app.request(path, {
        method: "POST",
        // No Content-Length: the size is unknown, so only the credentials can refuse it early.
        headers: { "Content-Type": "application/json" },
        body,
      }, env),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), 3_000));
    const first = await Promise.race([pending, late]);
    clearTimeout(timer);
    if (first === "late") {
      violations.push(`${label}: no answer within 3 s while the body never ends (body read first)`);
      if (!cancelled) await body.cancel().catch(() => {});
      continue;
    }
    const answer = await readAnswer(first);
    if (!allowed.includes(answer.status)) {
      violations.push(
        `${label}: expected ${allowed.join(" or ")}, got ${
          describeAnswer(answer.status, answer.text)
        }`,
      );
    } else if (answer.status === 200 && queryBlockProblem(answer)) {
      violations.push(`${label}: ${queryBlockProblem(answer)}`);
    }
    if (!cancelled) await body.cancel().catch(() => {});
  }
  fail(violations);
});

Deno.test("10,000-character ids, garbage cursors and query params get a 4xx, never 5xx", async () => {
  await using app = await startRouteApp();
  const violations: string[] = [];
  const ids = [LONG_ID, "é".repeat(5_000), encodeURIComponent("../".repeat(3_000)), "%00"];
  const json: string[] = [];
  const consolePaths: string[] = [];
  for (const id of ids) {
    json.push(
      `/api/workflows/${id}`,
      `/api/workflows/${id}/versions`,
      `/api/workflows/${app.workflowId}/versions/${id}`,
      `/api/runs/${id}`,
      `/api/runs/${id}/input`,
      `/api/runs/${id}?input=1`,
      `/api/approvals/${id}`,
      `/api/triggers/${id}`,
      `/api/modules/${id}`,
    );
    consolePaths.push(`/workflows/${id}`, `/runs/${id}`, `/runs/${id}/input.json`);
  }
  for (const path of json) {
    const answer = await readAnswer(await app.test.admin(path));
    const problem = jsonRouteProblem(answer) ??
      ([400, 404].includes(answer.status)
        ? undefined
        : `expected 400 or 404, got ${describeAnswer(answer.status, answer.text)}`);
    if (problem) violations.push(`GET ${path.slice(0, 60)}…: ${problem}`);
  }
  for (const path of consolePaths) {
    const answer = await readAnswer(await app.browser.request(path));
    if (![400, 404].includes(answer.status)) {
      violations.push(
        `console GET ${path.slice(0, 60)}…: expected 400 or 404, got ${answer.status}`,
      );
    }
  }
  const writes: { method: string; path: string; body?: string }[] = [
    { method: "DELETE", path: `/api/workflows/${LONG_ID}` },
    { method: "PUT", path: `/api/workflows/${LONG_ID}`, body: README_WORKFLOW_YAML },
    { method: "POST", path: `/api/workflows/${LONG_ID}/enable` },
    { method: "POST", path: `/api/workflows/${LONG_ID}/disable` },
    { method: "POST", path: `/api/workflows/${LONG_ID}/dry-run`, body: "{}" },
    { method: "POST", path: `/api/runs/${LONG_ID}/replay`, body: "{}" },
    { method: "POST", path: `/api/approvals/${LONG_ID}/approve`, body: "{}" },
    { method: "POST", path: `/api/approvals/${LONG_ID}/deny`, body: "{}" },
    { method: "DELETE", path: `/api/dead-letters/${LONG_ID}` },
    { method: "DELETE", path: `/api/chat/roles?platform=slack&user_id=${LONG_ID}` },
    { method: "DELETE", path: `/api/chat/chats?platform=telegram&chat_id=${LONG_ID}` },
    {
      method: "PUT",
      path: "/api/chat/roles",
      body: JSON.stringify({ platform: "slack", user_id: LONG_ID, role: "viewer" }),
    },
    {
      method: "PUT",
      path: "/api/chat/chats",
      body: JSON.stringify({ platform: "telegram", chat_id: LONG_ID, max_tlp: "red" }),
    },
  ];
  for (const { method, path, body } of writes) {
    const answer = await readAnswer(
      await app.test.admin(path, {
        method,
        headers: {
          "Content-Type": method === "PUT" && body?.startsWith("\n")
            ? "application/yaml"
            : "application/json",
        },
        ...(body === undefined ? {} : { body }),
      }),
    );
    const problem = jsonRouteProblem(answer) ??
      (answer.status >= 400
        ? undefined
        : `expected a 4xx for a 10,000-char id, got ${describeAnswer(answer.status, answer.text)}`);
    if (problem) violations.push(`${method} ${path.slice(0, 60)}…: ${problem}`);
  }
  const hookAnswer = await readAnswer(
    await app.test.request(`/hooks/misp/${LONG_ID}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${HOOK_TOKEN}`, "Content-Type": "application/json" },
      body: "{}",
    }),
  );
  if (hookAnswer.status !== 404 || jsonRouteProblem(hookAnswer)) {
    violations.push(
      `POST /hooks/misp/<10,000 chars>: expected 404, got ${
        describeAnswer(hookAnswer.status, hookAnswer.text)
      }`,
    );
  }

  // Cursors Deno KV cannot decode must be a 4xx; any other garbage at least no 5xx.
  const undecodable = ["!!!", "%FF%FE", "A".repeat(10_000), "' OR 1=1 --", "..%2F..%2F"];
  const odd = ["AAAA", "not-a-cursor", "null", "-1", "eyJ9"];
  const lists = [
    "/api/runs",
    "/api/runs?workflow=block-tlp-red-publication",
    "/api/runs?outcome=blocked",
    "/api/audit",
    "/api/dead-letters",
  ];
  for (const list of lists) {
    for (const cursor of [...undecodable, ...odd]) {
      const path = `${list}${list.includes("?") ? "&" : "?"}cursor=${
        cursor.includes("%") ? cursor : encodeURIComponent(cursor)
      }`;
      const answer = await readAnswer(await app.test.admin(path));
      const problem = jsonRouteProblem(answer) ??
        (undecodable.includes(cursor) && (answer.status < 400 || answer.status >= 500)
          ? `expected a 4xx for a malformed cursor, got ${
            describeAnswer(answer.status, answer.text)
          }`
          : undefined);
      if (problem) {
        violations.push(`GET ${list} cursor ${JSON.stringify(cursor.slice(0, 20))}: ${problem}`);
      }
    }
  }
  for (const cursor of [...undecodable, ...odd]) {
    const answer = await readAnswer(
      await app.browser.request(`/runs?cursor=${encodeURIComponent(cursor)}`),
    );
    if (answer.status >= 500) {
      violations.push(
        `console GET /runs cursor ${JSON.stringify(cursor.slice(0, 20))}: ${answer.status}`,
      );
    }
  }

  const params = [
    "limit=-1",
    "limit=abc",
    "limit=1e400",
    "limit=99999999999999999999",
    "since=garbage",
    `until=${"9".repeat(3_000)}`,
    `outcome=${LONG_ID}`,
    `trigger=${LONG_ID}`,
    `workflow=${LONG_ID}`,
    `event=${LONG_ID}`,
    `state=${LONG_ID}`,
    `format=${LONG_ID}`,
  ];
  for (
    const list of [
      "/api/runs",
      "/api/audit",
      "/api/dead-letters",
      "/api/approvals",
      "/api/workflows",
    ]
  ) {
    for (const param of params) {
      const answer = await readAnswer(await app.test.admin(`${list}?${param}`));
      const problem = jsonRouteProblem(answer);
      if (problem) violations.push(`GET ${list}?${param.slice(0, 40)}: ${problem}`);
    }
  }
  for (const param of params) {
    const path = `/api/workflows/${app.workflowId}?${param}`;
    const problem = jsonRouteProblem(await readAnswer(await app.test.admin(path)));
    if (problem) violations.push(`GET /api/workflows/:id?${param.slice(0, 40)}: ${problem}`);
    const consoleAnswer = await app.browser.request(`/runs?${param}`);
    await consoleAnswer.body?.cancel();
    if (consoleAnswer.status >= 500) {
      violations.push(`console GET /runs?${param.slice(0, 40)}: ${consoleAnswer.status}`);
    }
  }
  const signIn = await app.browser.request(`/sign-in?next=${encodeURIComponent(LONG_ID)}`);
  await signIn.body?.cancel();
  if (signIn.status >= 500) violations.push(`GET /sign-in?next=<10,000 chars>: ${signIn.status}`);
  fail(violations);
});

Deno.test("hooks take 3,000-character uuids and timestamps with a 202 and a stored run, or a 4xx", async () => {
  await using app = await startRouteApp();
  const listener = app.test.kv.listenQueue(createQueueHandler(app.test.ctx));
  const violations: string[] = [];
  const red = await tlpRedEvent();
  const attribute =
    ((red.Event as Record<string, unknown>).Attribute as Record<string, unknown>[])[0]!;
  const payloads: { label: string; data: unknown }[] = [
    { label: "3,000-char Event uuid", data: withEvent(red, { uuid: "u".repeat(3_000) }) },
    {
      label: "3,000-digit Event timestamp",
      data: withEvent(red, { timestamp: "9".repeat(3_000) }),
    },
    {
      label: "3,000-digit publish_timestamp",
      data: withEvent(red, { publish_timestamp: "1".repeat(3_000) }),
    },
    { label: "3,000-char Event id", data: withEvent(red, { id: "7".repeat(3_000) }) },
    { label: "3,000-char date", data: withEvent(red, { date: "2".repeat(3_000) }) },
    { label: "all identity fields 3,000 chars", data: withEvent(red, longIdentity()) },
    {
      label: "3,000-char attribute uuid and timestamp",
      data: withEvent(red, {
        Attribute: [{ ...attribute, uuid: "a".repeat(3_000), timestamp: "8".repeat(3_000) }],
      }),
    },
    { label: "timestamp 1e309", data: withEvent(red, { timestamp: "1e309" }) },
    {
      label: "negative timestamps",
      data: withEvent(red, { timestamp: -1, publish_timestamp: "-99999999999" }),
    },
    { label: "uuid an object", data: withEvent(red, { uuid: { a: [1] } }) },
  ];
  const accepted: { label: string; trigger: string; runIds: string[] }[] = [];
  for (const trigger of ["event-publish", "event-after-save"]) {
    for (const { label, data } of payloads) {
      const answer = await readAnswer(
        await app.test.request(`/hooks/misp/${trigger}`, {
          method: "POST",
          headers: { Authorization: `Bearer ${HOOK_TOKEN}`, "Content-Type": "application/json" },
          body: JSON.stringify(data),
        }),
      );
      const problem = jsonRouteProblem(answer);
      if (problem) {
        violations.push(`POST /hooks/misp/${trigger} with ${label}: ${problem}`);
      } else if (answer.status === 202) {
        accepted.push({ label, trigger, runIds: JSON.parse(answer.text).run_ids });
      } else if (answer.status < 400) {
        violations.push(
          `POST /hooks/misp/${trigger} with ${label}: expected 202 or a 4xx, got ${
            describeAnswer(answer.status, answer.text)
          }`,
        );
      }
    }
  }
  // After a 202 the run must exist: acknowledged work is never lost.
  const missing = new Set(accepted.flatMap(({ runIds }) => runIds));
  await pollUntil(async () => {
    for (const id of missing) {
      const response = await app.test.admin(`/api/runs/${id}`);
      await response.body?.cancel();
      if (response.status === 200) missing.delete(id);
    }
    return missing.size === 0;
  }, 10_000);
  for (const { label, trigger, runIds } of accepted) {
    for (const id of runIds) {
      if (missing.has(id)) {
        violations.push(`${trigger} hook with ${label}: 202, but run ${id} never stored`);
      }
    }
  }
  app.test.kv.close();
  await listener;
  fail(violations);
});

Deno.test("Slack and Telegram routes survive malformed, unsigned and partial deliveries", async (t) => {
  await using app = await startRouteApp();
  const post = async (path: string, headers: Record<string, string>, body: string) =>
    await readAnswer(
      await app.test.app.request(path, { method: "POST", headers, body }, LOOPBACK_ENV),
    );

  await t.step("Slack: signed garbage gets a 4xx or an empty 200, unsigned gets 401", async () => {
    const violations: string[] = [];
    const bodies: [string, string, string][] = [
      ["signed null", "null", "application/json"],
      ["signed []", "[]", "application/json"],
      ["signed string", '"x"', "application/json"],
      ["signed number", "42", "application/json"],
      ["signed {}", "{}", "application/json"],
      ["signed malformed", '{"type":', "application/json"],
      [
        "signed 10,000-level nesting",
        `${'{"a":'.repeat(DEPTH)}1${"}".repeat(DEPTH)}`,
        "application/json",
      ],
      ["signed form payload=null", "payload=null", "application/x-www-form-urlencoded"],
      ["signed form payload=[]", "payload=%5B%5D", "application/x-www-form-urlencoded"],
      ["signed form payload garbage", "payload=%7B%22type", "application/x-www-form-urlencoded"],
      [
        "signed event_callback without event",
        '{"type":"event_callback","event_id":"E1"}',
        "application/json",
      ],
      [
        "signed block_actions without user",
        '{"type":"block_actions","actions":[{}]}',
        "application/json",
      ],
      ["signed empty form", "", "application/x-www-form-urlencoded"],
      [
        "signed slash command without fields",
        "command=%2Fflowgate",
        "application/x-www-form-urlencoded",
      ],
    ];
    for (const [label, body, type] of bodies) {
      const answer = await post("/slack/events", await slackHeaders(body, type), body);
      if (answer.status >= 500) {
        violations.push(`${label}: ${describeAnswer(answer.status, answer.text)}`);
      }
    }
    const unsigned: [string, Record<string, string>][] = [
      ["no headers", {}],
      ["a 3,000-digit timestamp", {
        "X-Slack-Request-Timestamp": "9".repeat(3_000),
        "X-Slack-Signature": "v0=00",
      }],
      ["a negative timestamp", { "X-Slack-Request-Timestamp": "-1", "X-Slack-Signature": "v0=00" }],
      [
        "a 10,000-char signature",
        {
          "X-Slack-Request-Timestamp": String(Math.floor(Date.now() / 1_000)),
          "X-Slack-Signature": `v0=${"f".repeat(10_000)}`,
        },
      ],
    ];
    for (const [label, headers] of unsigned) {
      const answer = await post("/slack/events", headers, "null");
      if (answer.status !== 401) {
        violations.push(
          `unsigned, ${label}: expected 401, got ${describeAnswer(answer.status, answer.text)}`,
        );
      }
    }
    fail(violations);
  });

  await t.step(
    "Telegram: updates it cannot use get 200 (Telegram redelivers otherwise)",
    async () => {
      const violations: string[] = [];
      const secret = {
        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
        "Content-Type": "application/json",
      };
      const updates: [string, unknown][] = [
        ["an update id only", { update_id: 1 }],
        ["a message without chat and from", {
          update_id: 2,
          message: { message_id: 1, date: 1, text: "/help" },
        }],
        [
          "a message without from",
          {
            update_id: 3,
            message: {
              message_id: 1,
              date: 1,
              text: "/help",
              chat: { id: -1001234, type: "group" },
            },
          },
        ],
        [
          "a message without chat",
          {
            update_id: 4,
            message: {
              message_id: 1,
              date: 1,
              text: "/list",
              from: { id: 1001, is_bot: false, first_name: "A" },
            },
          },
        ],
        ["a callback query without from or message", {
          update_id: 5,
          callback_query: { id: "q", data: "replay:x" },
        }],
        [
          "a reply that Telegram refuses (unknown chat)",
          {
            update_id: 6,
            message: {
              message_id: 1,
              date: 1,
              text: "/help",
              chat: { id: -999, type: "group" },
              from: { id: 1001, is_bot: false, first_name: "A" },
            },
          },
        ],
        ["a text that is an object", {
          update_id: 7,
          message: { message_id: 1, date: 1, text: { a: 1 } },
        }],
      ];
      for (const [label, update] of updates) {
        const answer = await post("/telegram", secret, JSON.stringify(update));
        if (answer.status !== 200) {
          violations.push(
            `${label}: expected 200, got ${describeAnswer(answer.status, answer.text)}`,
          );
        }
      }
      // Not updates at all: a 4xx is fine, a 5xx is not.
      const notUpdates = [
        "null",
        "[]",
        "{",
        '"x"',
        "{}",
        JSON.stringify({ update_id: "9".repeat(3_000), message: { text: "/help" } }),
        `${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}`,
      ];
      for (const body of notUpdates) {
        const answer = await post("/telegram", secret, body);
        if (answer.status >= 500) {
          violations.push(
            `body ${JSON.stringify(body.slice(0, 10))}: ${
              describeAnswer(answer.status, answer.text)
            }`,
          );
        }
      }
      for (
        const [label, headers] of [
          ["no secret", { "Content-Type": "application/json" }],
          ["a 10,000-char secret", { "X-Telegram-Bot-Api-Secret-Token": LONG_ID }],
        ] as const
      ) {
        const answer = await post("/telegram", headers, '{"update_id": 8}');
        if (answer.status !== 401) {
          violations.push(
            `${label}: expected 401, got ${describeAnswer(answer.status, answer.text)}`,
          );
        }
      }
      fail(violations);
    },
  );
});

Deno.test("GET routes and unknown methods never answer 5xx", async () => {
  await using app = await startRouteApp();
  const violations: string[] = [];
  const paths = [
    "/healthz",
    "/metrics",
    "/modules",
    "/api/workflows",
    "/api/runs",
    "/api/triggers",
    "/api/modules",
    "/api/audit",
    "/api/dead-letters",
    "/api/chat/roles",
    "/api/chat/chats",
    "/api/approvals",
    "/static/console.css",
    "/",
    "/sign-in",
    "/workflows",
    "/runs",
    "/approvals",
  ];
  for (const path of paths) {
    for (const method of ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      for (const credentials of ["admin", "none"] as const) {
        const request = credentials === "admin" ? app.test.admin : app.test.request;
        const response = await request(path, {
          method,
          ...(method === "GET" ? {} : { body: "{" }),
        });
        const answer = await readAnswer(response);
        if (answer.status >= 500) {
          violations.push(
            `${method} ${path} (${credentials}): ${describeAnswer(answer.status, answer.text)}`,
          );
        }
      }
    }
  }
  for (const method of ["GET", "PUT", "DELETE"]) {
    const answer = await readAnswer(await app.test.request("/query", { method }));
    if (answer.status >= 500) violations.push(`${method} /query: ${answer.status}`);
  }
  fail(violations);
});

/** A YAML workflow of `count` chained stop-execution nodes (plus the trigger). */
function chainYaml(count: number): string {
  const nodes = Array.from(
    { length: count },
    (_, i) =>
      `  n${i}:\n    module: stop-execution\n    params: { message: "node ${i}" }\n` +
      (i + 1 < count ? `    next: n${i + 1}\n` : ""),
  );
  return `name: chain-${count}\ntrigger: event-publish\nenabled: true\nstart: n0\nnodes:\n${
    nodes.join("")
  }`;
}

Deno.test("workflow sources over the limits get 400 or 413 naming the limit, never 5xx", async () => {
  await using app = await startRouteApp();
  const violations: string[] = [];
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const previous = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    laughs.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(",")}]`);
  }
  const sources: { label: string; body: string; type: string; mentions?: RegExp }[] = [
    { label: "501 nodes", body: chainYaml(501), type: "application/yaml", mentions: /500/ },
    {
      label: "a 1.5 MB workflow",
      body: `${chainYaml(1)}description: "${"d".repeat(1_500_000)}"\n`,
      type: "application/yaml",
      mentions: /1[,_ ]?048[,_ ]?576|1 ?MiB/,
    },
    {
      label: "10,000-level nested YAML",
      body: `${chainYaml(1)}extra: ${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}\n`,
      type: "application/yaml",
    },
    {
      label: "10,000-level nested MISP JSON",
      body: `{"Workflow": {"name": "deep", "data": ${'{"a":'.repeat(DEPTH)}1${"}".repeat(DEPTH)}}}`,
      type: "application/json",
    },
    { label: "a YAML alias bomb", body: `${laughs.join("\n")}\n`, type: "application/yaml" },
  ];
  for (const { label, body, type, mentions } of sources) {
    for (
      const [method, path] of [["POST", "/api/workflows"], [
        "PUT",
        `/api/workflows/${app.workflowId}`,
      ]]
    ) {
      const started = performance.now();
      const answer = await readAnswer(
        await app.test.admin(path!, { method, headers: { "Content-Type": type }, body }),
      );
      const elapsed = performance.now() - started;
      const problem = jsonRouteProblem(answer) ??
        (![400, 413].includes(answer.status)
          ? `expected 400 or 413, got ${describeAnswer(answer.status, answer.text)}`
          : mentions && !mentions.test(answer.text)
          ? `the refusal must name the limit: ${describeAnswer(answer.status, answer.text)}`
          : elapsed > 5_000
          ? `took ${elapsed.toFixed(0)} ms to refuse`
          : undefined);
      if (problem) violations.push(`${method} ${path} with ${label}: ${problem}`);
    }
  }
  fail(violations);
});
