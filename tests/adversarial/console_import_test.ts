/**
 * Adversarial: the console's import and edit forms (`/import`, `/workflows/:id/edit`) with the
 * largest broken source the limits let through, a 2 MiB single line, an alias bomb, binary
 * garbage uploaded as a file and a form in the wrong content type. Each gets a 4xx page, never
 * 5xx, and the largest is answered in bounded time.
 */

import assert from "node:assert/strict";
import { MAX_NODES } from "../../engine/limits.ts";
import { startTestApp } from "../server/test_app.ts";
import {
  ConsoleClient,
  describeAnswer,
  readAnswer,
  README_WORKFLOW_YAML,
  saveWorkflowYaml,
} from "./harness.ts";

/** Longest a refusal of the largest source may take; one full parse per problem took 90 s. */
const REFUSAL_BOUND_MS = 20_000;

/**
 * A YAML workflow of `count` tag-if nodes, each with four problems (bad scope, bad condition, no
 * tags, a `then` to a node that does not exist) and a long label, about 1.6 KB a node.
 */
function brokenWorkflowYaml(count: number): string {
  const nodes = Array.from(
    { length: count },
    (_, i) =>
      `  n${i}:\n    module: tag-if\n    label: "${"x".repeat(1_500)}"\n` +
      `    params: { scope: bogus, condition: nope }\n    then: ghost${i}\n`,
  );
  return `name: broken-big\ntrigger: event-publish\nstart: n0\nnodes:\n${nodes.join("")}`;
}

/** POSTs a multipart form with the session's CSRF token; returns the answer read whole. */
async function postForm(
  browser: ConsoleClient,
  path: string,
  fields: Record<string, string | Blob>,
  fileName?: string,
) {
  const form = new FormData();
  form.set("_csrf", browser.csrf);
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === "string") form.set(name, value);
    else form.set(name, value, fileName ?? "workflow.yaml");
  }
  return await readAnswer(
    await browser.request(path, {
      method: "POST",
      headers: { Origin: "http://localhost" },
      body: form,
    }),
  );
}

Deno.test("the import and edit forms answer the largest broken source with every problem, in bounded time", async () => {
  await using test = await startTestApp();
  const browser = new ConsoleClient(test);
  await browser.signIn();
  const id = await saveWorkflowYaml(test, README_WORKFLOW_YAML);
  const source = brokenWorkflowYaml(MAX_NODES - 1);
  for (const path of ["/import", `/workflows/${id}/edit`]) {
    const started = performance.now();
    const answer = await postForm(browser, path, { source, do: "check" });
    const elapsed = performance.now() - started;
    assert.equal(answer.status, 400, `${path}: ${describeAnswer(answer.status, answer.text)}`);
    const listed = Number(answer.text.match(/data-problems="(\d+)"/)?.[1]);
    assert.ok(listed >= (MAX_NODES - 1) * 2, `${path} listed ${listed} problems`);
    assert.match(answer.text, /id="L2000"/, `${path} numbers the source`);
    assert.ok(
      elapsed < REFUSAL_BOUND_MS,
      `${path} took ${elapsed.toFixed(0)} ms for ${source.length} bytes and ${listed} problems`,
    );
  }
});

Deno.test("the import form refuses huge lines, alias bombs, binary uploads and wrong content types with a 4xx", async () => {
  await using test = await startTestApp();
  const browser = new ConsoleClient(test);
  await browser.signIn();
  await browser.page("/import");
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const previous = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    laughs.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(",")}]`);
  }
  const garbage = new Uint8Array(200_000);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 256;
  const cases: { label: string; fields: Record<string, string | Blob>; file?: string }[] = [
    { label: "a 2 MiB single line", fields: { source: `name: ${"x".repeat(2_090_000)}` } },
    { label: "a YAML alias bomb", fields: { source: `${laughs.join("\n")}\n` } },
    {
      label: "binary garbage uploaded",
      fields: { source_file: new Blob([garbage]) },
      file: "x.yaml",
    },
    {
      label: "binary garbage as .json",
      fields: { source_file: new Blob([garbage]) },
      file: "x.json",
    },
    {
      label: "a 1.5 MB upload",
      fields: { source_file: new Blob(["#".repeat(1_500_000)]) },
      file: "big.yaml",
    },
  ];
  const violations: string[] = [];
  for (const { label, fields, file } of cases) {
    const answer = await postForm(browser, "/import", fields, file);
    if (answer.status < 400 || answer.status >= 500) {
      violations.push(`${label}: ${describeAnswer(answer.status, answer.text)}`);
    }
  }
  for (const type of ["application/json", "text/plain", "application/yaml"]) {
    const answer = await readAnswer(
      await browser.request("/import", {
        method: "POST",
        headers: { Origin: "http://localhost", "Content-Type": type },
        body: JSON.stringify({ _csrf: browser.csrf, source: README_WORKFLOW_YAML }),
      }),
    );
    if (answer.status !== 403) {
      violations.push(
        `a ${type} body: expected 403, got ${describeAnswer(answer.status, answer.text)}`,
      );
    }
  }
  assert.deepEqual(violations, []);
});

/** A workflow whose node params hold one mapping of `count` keys (about 1 MiB for 55,000). */
function wideMappingYaml(count: number): string {
  const keys = Array.from({ length: count }, (_, i) => `        k${i}: 1\n`).join("");
  return "name: wide\ntrigger: event-publish\nstart: stop\nnodes:\n  stop:\n" +
    `    module: stop-execution\n    params:\n      message: blocked\n      extra:\n${keys}`;
}

Deno.test("a 1 MiB mapping of 55,000 keys is read in bounded time by the API and the console", async () => {
  await using test = await startTestApp();
  const browser = new ConsoleClient(test);
  await browser.signIn();
  const source = wideMappingYaml(55_000);
  assert.ok(source.length < 1_048_576, `${source.length} bytes`);
  const tries: [string, () => Promise<Awaited<ReturnType<typeof readAnswer>>>][] = [
    ["POST /api/workflows", async () =>
      await readAnswer(
        await test.admin("/api/workflows", {
          method: "POST",
          headers: { "Content-Type": "application/yaml" },
          body: source,
        }),
      )],
    ["POST /import", async () => await postForm(browser, "/import", { source, do: "check" })],
  ];
  for (const [label, send] of tries) {
    const started = performance.now();
    const answer = await send();
    const elapsed = performance.now() - started;
    assert.ok(answer.status < 500, `${label}: ${describeAnswer(answer.status, answer.text)}`);
    assert.ok(
      elapsed < REFUSAL_BOUND_MS,
      `${label} took ${elapsed.toFixed(0)} ms for ${source.length} bytes`,
    );
  }
});
