/**
 * What the adversarial suite shares: the README's blocking workflow, a tlp:red event as MISP
 * sends it, the checks every answer must pass (no 5xx; `/query` fails closed), a console client
 * with a cookie jar, and the server process's RSS.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CookieJar } from "../fixtures/cookie_jar.ts";
import { ADMIN_TOKEN, LOOPBACK_ENV, readSharedData, type TestApp } from "../server/test_app.ts";

/**
 * The README's example workflow ("Workflows in YAML"), with the message the issue reproduced the
 * fail-open with: `Publication of {{ Event.info }} blocked`. Its `notify` branch posts to a
 * public host, but offline services have no outbound client, so nothing leaves the machine.
 */
export const README_WORKFLOW_YAML = `
name: block-tlp-red-publication
description: Block publishing tlp:red events
trigger: event-publish
enabled: true
order: 100
on_timeout: block
start: tlp-red
nodes:
  tlp-red:
    module: tag-if
    params: { scope: event, condition: in_or, tags: [tlp:red] }
    then: stop
    else: notify
  stop:
    module: stop-execution
    params: { message: "Publication of {{ Event.info }} blocked" }
  notify:
    module: webhook
    params: { url: "https://hooks.example.org/misp" }
`;

/** `examples/block-tlp-red-publication.yaml`, the repository's own tlp:red publish gate. */
export async function exampleTlpRedWorkflow(): Promise<string> {
  return await Deno.readTextFile(
    new URL("../../examples/block-tlp-red-publication.yaml", import.meta.url),
  );
}

/** The tag MISP attaches to a tlp:red event, as its API returns it. */
export const TLP_RED_TAG = Object.freeze({
  id: "9001",
  name: "tlp:red",
  colour: "#CC0033",
  exportable: true,
  local: false,
});

/**
 * The real event `misp-event-pymisp-sighting_2.json` tagged tlp:red at event level (`Event.Tag`),
 * wrapped as MISP sends it (`{"Event": …}`).
 */
export async function tlpRedEvent(): Promise<Record<string, unknown>> {
  const data = JSON.parse(await readSharedData("misp-event-pymisp-sighting_2.json"));
  data.Event.Tag = [...(data.Event.Tag ?? []), { ...TLP_RED_TAG }];
  return data;
}

/** Saves a YAML workflow through the admin API; returns its id. */
export async function saveWorkflowYaml(test: TestApp, yaml: string): Promise<string> {
  const response = await test.admin("/api/workflows", {
    method: "POST",
    headers: { "Content-Type": "application/yaml" },
    body: yaml,
  });
  const text = await response.text();
  assert.equal(response.status, 201, `Saving the workflow failed: ${response.status} ${text}`);
  return JSON.parse(text).workflow.id;
}

/** A `/query` body for `module` on `data`, as MISP's Action service client sends it. */
export function queryBody(module: string, data: unknown): string {
  return JSON.stringify({ module, data, params: {} });
}

/** Longest excerpt of an answer quoted in an assertion message. */
const EXCERPT_CHARS = 300;

/** Status and the start of the body, for assertion messages. */
export function describeAnswer(status: number, text: string): string {
  const excerpt = text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
  return `${status} ${JSON.stringify(excerpt)}`;
}

/** What one probe of a route got back, read whole. */
export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** Reads a response whole (so nothing is left unconsumed). */
export async function readAnswer(response: Response): Promise<Answer> {
  return {
    status: response.status,
    contentType: response.headers.get("Content-Type") ?? "",
    text: await response.text(),
  };
}

/**
 * The problem with a `/query` answer, or undefined when it fails closed: MISP treats any non-2xx
 * answer as "allow", so every failure must be HTTP 200 with `{"error": "…"}`.
 */
export function queryBlockProblem(answer: Answer): string | undefined {
  if (answer.status !== 200) {
    return `expected 200 with {"error"} (MISP allows on any other status), got ${
      describeAnswer(answer.status, answer.text)
    }`;
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return `expected a JSON body, got ${describeAnswer(answer.status, answer.text)}`;
  }
  const record = body as Record<string, unknown> | null;
  if (record?.data === true) {
    return `the gate ALLOWED: ${describeAnswer(answer.status, answer.text)}`;
  }
  if (typeof record?.error !== "string" || record.error.trim() === "") {
    return `expected {"error": "<reason>"}, got ${describeAnswer(answer.status, answer.text)}`;
  }
  return undefined;
}

/**
 * The problem with an answer of a JSON route (admin API, hooks), or undefined: never 5xx, and a
 * refusal is JSON `{"error": "…"}`.
 */
export function jsonRouteProblem(answer: Answer): string | undefined {
  if (answer.status >= 500) return `5xx: ${describeAnswer(answer.status, answer.text)}`;
  if (answer.status < 400) return undefined;
  if (!/application\/json/i.test(answer.contentType)) {
    return `a ${answer.status} refusal must be JSON, got "${answer.contentType}": ${
      describeAnswer(answer.status, answer.text)
    }`;
  }
  try {
    const body = JSON.parse(answer.text);
    if (typeof body?.error !== "string" || body.error === "") {
      return `a ${answer.status} refusal must say {"error": "…"}: ${
        describeAnswer(answer.status, answer.text)
      }`;
    }
  } catch {
    return `a ${answer.status} refusal is not JSON: ${describeAnswer(answer.status, answer.text)}`;
  }
  return undefined;
}

/** A console client over `app.request` with a cookie jar and the forms' CSRF token. */
export class ConsoleClient {
  readonly #test: TestApp;
  readonly #jar = new CookieJar();
  csrf = "";

  /** A client of `test.app` (the whole app, console included). */
  constructor(test: TestApp) {
    this.#test = test;
  }

  /** One request with the jar's cookies, from loopback. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = this.#jar.headersFor(init);
    const response = await this.#test.app.request(path, { ...init, headers }, LOOPBACK_ENV);
    this.#jar.store(response);
    return response;
  }

  /** GETs a page and keeps the CSRF token of its forms. */
  async page(path: string): Promise<string> {
    const html = await (await this.request(path)).text();
    const token = html.match(/name="_csrf" value="([^"]+)"/)?.[1];
    if (token) this.csrf = token;
    return html;
  }

  /** Signs in with the admin token; throws unless the console lets us in. */
  async signIn(): Promise<void> {
    await this.page("/sign-in");
    const response = await this.request("/sign-in", {
      method: "POST",
      headers: { Origin: "http://localhost" },
      body: new URLSearchParams({ _csrf: this.csrf, token: ADMIN_TOKEN, next: "/workflows" }),
    });
    await response.body?.cancel();
    assert.equal(response.status, 303, "Console sign-in failed");
    await this.page("/workflows");
  }
}

/** The resident set size of process `pid`, in bytes (Linux `/proc/<pid>/status` VmRSS). */
export async function readRssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = status.match(/^VmRSS:\s+(\d+)\s+kB$/m)?.[1];
  if (kib === undefined) throw new Error(`No VmRSS in /proc/${pid}/status`);
  return Number(kib) * 1_024;
}

/**
 * Polls `done()` every 25 ms until it holds; returns false (never throws) once `timeoutMs`
 * passed, so the caller can say what did not happen.
 */
export async function pollUntil(
  done: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
