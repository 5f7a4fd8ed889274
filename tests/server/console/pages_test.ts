import assert from "node:assert/strict";
import { parseWorkflowYaml } from "../../../engine/yaml_codec.ts";
import { MODULE_CATALOG } from "../../../modules/registry.ts";
import { wrapLabel } from "../../../server/console/graph_svg.tsx";
import { formatCompactTime } from "../../../server/console/layout.tsx";
import { CONSOLE_CSS } from "../../../server/console/styles.ts";
import { listAudit } from "../../../store/audit.ts";
import { addDeadLetter, listDeadLetters } from "../../../store/dead_letters.ts";
import { enqueueJob, getJob } from "../../../store/queue_jobs.ts";
import { createWorkflow, getWorkflow, listWorkflows } from "../../../store/workflows.ts";
import { startApprovalSetup } from "../../fixtures/approval_setup.ts";
import { startTestApp } from "../test_app.ts";
import { BROKEN_IMPORT_LINE, BROKEN_IMPORT_YAML } from "./broken_import.ts";
import { ConsoleClient, signedIn } from "./console_client.ts";
import { largeWorkflowYaml } from "./large_workflow.ts";

Deno.test("the workflow page fits a 15-node graph to the width, with zoom links and wrapped labels", async () => {
  await using test = await startTestApp();
  const workflow = parseWorkflowYaml(largeWorkflowYaml(), { catalog: MODULE_CATALOG });
  const stored = await createWorkflow(test.kv, workflow, { actor: "test", sourceFormat: "yaml" });
  const client = await signedIn(test);
  const { response, html } = await client.page(`/workflows/${stored.id}`);
  assert.equal(response.status, 200);
  const svg = /<svg [^>]*viewBox="0 0 (\d+) (\d+)"[^>]*>/.exec(html);
  assert.ok(svg, "the graph has a viewBox");
  assert.match(svg[0], /preserveAspectRatio="xMinYMin meet"/);
  assert.match(svg[0], /data-fit="width"/);
  // The stylesheet shrinks the drawing to the box (max-width) and keeps its proportions.
  assert.match(CONSOLE_CSS, /\.graph svg\{display:block;max-width:100%;height:auto\}/);
  assert.equal([...html.matchAll(/data-node="/g)].length, 15);
  assert.match(html, /15 nodes in \d+ columns/);
  for (const zoom of ["#graph", "#graph-actual", "#graph-large"]) {
    assert.match(html, new RegExp(`href="${zoom}"`));
  }
  assert.match(CONSOLE_CSS, /#graph-actual:target~\.graph svg\{max-width:none\}/);
  // "Does the event carry the tlp:red marking on the event itself?" spans two lines.
  assert.match(
    html,
    /<tspan [^>]*dy="0">Does the event carry<\/tspan><tspan [^>]*dy="15">the tlp:red/,
  );
  assert.match(html, /href="\/workflows\/[^"]+\/edit">Edit</);
});

Deno.test("wrapLabel() breaks at spaces, splits long words and cuts what is left", () => {
  assert.deepEqual(wrapLabel("Stop execution"), ["Stop execution"]);
  assert.deepEqual(wrapLabel("Does the event carry the tlp:red marking?", 24), [
    "Does the event carry the",
    "tlp:red marking?",
  ]);
  assert.deepEqual(wrapLabel("a".repeat(30), 10, 2), ["a".repeat(10), `${"a".repeat(9)}…`]);
});

Deno.test("console times stay on one line and carry the full ISO time", async () => {
  assert.equal(formatCompactTime("2026-11-28T09:14:03.123Z"), "28 Nov 09:14:03");
  assert.match(CONSOLE_CSS, /\.nowrap\{white-space:nowrap\}/);
  await using test = await startTestApp();
  const workflow = parseWorkflowYaml(largeWorkflowYaml(), { catalog: MODULE_CATALOG });
  await createWorkflow(test.kv, workflow, { actor: "test", sourceFormat: "yaml" });
  const client = await signedIn(test);
  const { html } = await client.page("/workflows");
  assert.match(html, /<table class="cards">/);
  assert.match(html, /<td data-label="Workflow">/);
  const versions = await client.page(`/workflows/${(await listWorkflows(test.kv))[0]!.id}`);
  assert.match(
    versions.html,
    /<time class="nowrap" datetime="(\d{4}-[^"]+Z)" title="\1 \(UTC\)">\d+ [A-Z][a-z]{2} \d\d:\d\d:\d\d<\/time>/,
  );
  // Under 600 px wide, tables with class "cards" become one card per row.
  assert.match(CONSOLE_CSS, /@media \(max-width:600px\)\{table\.cards thead\{display:none\}/);
});

Deno.test("the console has a favicon", async () => {
  await using test = await startTestApp();
  const icon = await test.request("/favicon.ico");
  assert.equal(icon.status, 200);
  assert.equal(icon.headers.get("Content-Type"), "image/svg+xml");
  assert.match(await icon.text(), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const client = await signedIn(test);
  const { html } = await client.page("/workflows");
  assert.match(html, /<link rel="icon" type="image\/svg\+xml" href="data:image\/svg\+xml,%3Csvg/);
});

Deno.test("the dead-letters page retries and discards, with the session's CSRF token", async (t) => {
  await using test = await startTestApp();
  const job = { parent_run_id: "01RUN", node_id: "notify", attempt: 5, workflow_id: "w" };
  const retryable = await addDeadLetter(test.kv, {
    kind: "action-retry",
    payload: job,
    error: 'Action node "notify" still failing after 5 attempts: HTTP 503',
    attempts: 5,
  });
  const lost = await addDeadLetter(test.kv, {
    kind: "run",
    payload: { run_id: "01LOST" },
    error: 'Cannot store run "01LOST": too large',
    attempts: 1,
  });
  const client = await signedIn(test);

  await t.step("the page lists each letter with its error and both buttons", async () => {
    const { response, html } = await client.page("/dead-letters");
    assert.equal(response.status, 200);
    assert.match(html, new RegExp(`data-dead-letter="${retryable}"`));
    assert.match(html, /still failing after 5 attempts: HTTP 503/);
    assert.equal([...html.matchAll(/name="do" value="retry"/g)].length, 2);
    assert.equal([...html.matchAll(/name="do" value="discard"/g)].length, 2);
  });

  await t.step("without the CSRF token nothing happens", async () => {
    const response = await client.post(`/dead-letters/${retryable}`, { do: "retry", _csrf: "" });
    assert.equal(response.status, 403);
    assert.equal((await listDeadLetters(test.kv)).items.length, 2);
  });

  await t.step("retry queues the job again and removes the letter, audited", async () => {
    const response = await client.post(`/dead-letters/${retryable}`, { do: "retry" });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get("Location"), "/dead-letters?done=retried");
    assert.deepEqual((await listDeadLetters(test.kv)).items.map((letter) => letter.id), [lost]);
    const audit = (await listAudit(test.kv)).items.find((entry) =>
      entry.action === "dead_letter.retry"
    );
    assert.equal(audit?.actor, "console:admin");
    const queued = await getJob(test.kv, String(audit?.details?.job));
    assert.equal(queued?.job.kind, "retry");
    assert.deepEqual(queued?.payload, job);
  });

  await t.step("a letter whose work cannot be queued again says so (409)", async () => {
    const response = await client.post(`/dead-letters/${lost}`, { do: "retry" });
    assert.equal(response.status, 409);
    assert.match(await response.text(), /cannot be queued again; discard it instead/);
  });

  await t.step("discard removes it", async () => {
    const response = await client.post(`/dead-letters/${lost}`, { do: "discard" });
    assert.equal(response.status, 303);
    assert.equal((await listDeadLetters(test.kv)).items.length, 0);
    const { html } = await client.page("/dead-letters?done=discarded");
    assert.match(html, /data-dead-letters="none"/);
    assert.match(html, /data-done="discarded"/);
  });
});

Deno.test("POST /api/dead-letters/:id/retry queues the work through the same service", async () => {
  await using test = await startTestApp();
  const id = await addDeadLetter(test.kv, {
    kind: "deferred",
    payload: { parent_run_id: "01RUN" },
    error: "boom",
    attempts: 1,
  });
  const response = await test.admin(`/api/dead-letters/${id}/retry`, { method: "POST" });
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.kind, "deferred");
  assert.equal((await getJob(test.kv, body.queued.job))?.job.kind, "deferred");
  assert.equal((await test.admin(`/api/dead-letters/${id}/retry`, { method: "POST" })).status, 404);
});

Deno.test("a queue message given up on is retried as a new job with the same payload", async () => {
  await using test = await startTestApp();
  const payload = { parent_run_id: "01RUN", node_id: "notify", attempt: 2 };
  const jobId = await enqueueJob(test.kv, { kind: "retry", payload });
  const id = await addDeadLetter(test.kv, {
    kind: "queue",
    payload: { type: "job", job_id: jobId, kind: "retry" },
    error: "The queue gave up delivering this message after every retry",
    attempts: 6,
  });
  const response = await test.admin(`/api/dead-letters/${id}/retry`, { method: "POST" });
  assert.equal(response.status, 200);
  const { queued } = await response.json();
  assert.notEqual(queued.job, jobId);
  assert.deepEqual((await getJob(test.kv, queued.job))?.payload, payload);
  const gone = await addDeadLetter(test.kv, {
    kind: "queue",
    payload: { type: "job", job_id: "01NOSUCHJOB", kind: "retry" },
    error: "gave up",
    attempts: 6,
  });
  const refused = await test.admin(`/api/dead-letters/${gone}/retry`, { method: "POST" });
  assert.equal(refused.status, 409);
  assert.match((await refused.json()).error, /job "01NOSUCHJOB" expired/);
  assert.equal((await listDeadLetters(test.kv)).items.length, 1);
});

Deno.test("importing a workflow shows each problem at its line and keeps the text", async (t) => {
  await using test = await startTestApp();
  const client = await signedIn(test);

  await t.step(
    "the import page has a paste area, an upload field and a trigger choice",
    async () => {
      const { response, html } = await client.page("/import");
      assert.equal(response.status, 200);
      assert.match(html, /<textarea id="source" name="source"/);
      assert.match(html, /name="source_file" type="file"/);
      assert.match(html, /<option value="event-publish"\s*>event-publish<\/option>/);
    },
  );

  await t.step("an unknown module: 400, the line of the node's module, the text kept", async () => {
    const response = await client.post("/import", { source: BROKEN_IMPORT_YAML, do: "save" });
    assert.equal(response.status, 400);
    const html = await response.text();
    const line = BROKEN_IMPORT_LINE;
    assert.match(
      html,
      new RegExp(
        `<a href="#L${line}">Line ${line}, column 5</a>: [^<]*unknown module &quot;stop-exec&quot;</li>`,
      ),
    );
    assert.match(html, new RegExp(`<div class="line bad" id="L${line}" data-line="${line}">`));
    assert.match(html, /params: \{ message: &quot;Blocked&quot; \}\n<\/textarea>/);
    assert.equal((await listWorkflows(test.kv)).length, 0);
  });

  await t.step("a YAML syntax error: its line and column", async () => {
    const text = "name: x\ntrigger: event-publish\nnodes:\n  a: [unclosed\n";
    const response = await client.post("/import", { source: text });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /<a href="#L\d+">Line \d+, column \d+<\/a>: Invalid YAML/);
  });

  await t.step("without the CSRF token nothing is imported", async () => {
    const response = await client.post("/import", { source: largeWorkflowYaml(), _csrf: "" });
    assert.equal(response.status, 403);
    assert.equal((await listWorkflows(test.kv)).length, 0);
  });

  await t.step("a valid workflow is imported and opens its page", async () => {
    const response = await client.post("/import", { source: largeWorkflowYaml("imported") });
    assert.equal(response.status, 303);
    const [stored] = await listWorkflows(test.kv);
    assert.equal(stored?.name, "imported");
    assert.equal(response.headers.get("Location"), `/workflows/${stored!.id}`);
    const audit = await listAudit(test.kv);
    assert.ok(audit.items.some((entry) => entry.action === "workflow.create"));
  });

  await t.step("a MISP blueprint uploaded as a file is imported too", async () => {
    const blueprint = await Deno.readTextFile(
      new URL(
        "../../../../shared/data/blueprint_pap_red-and-tlp_red-blocking_1661328258.json",
        import.meta.url,
      ),
    );
    const form = new FormData();
    form.set("_csrf", client.csrf);
    form.set("source", "");
    form.set("trigger", "enrichment-before-query");
    form.set("source_file", new File([blueprint], "blueprint.json", { type: "application/json" }));
    const response = await client.request("/import", {
      method: "POST",
      headers: { Origin: "http://localhost" },
      body: form,
    });
    assert.equal(response.status, 303);
    const names = (await listWorkflows(test.kv)).map((stored) => stored.name);
    assert.ok(names.includes("pap-red-and-tlp-red-blocking"), names.join(", "));
  });
});

Deno.test("editing a workflow's YAML saves a new version, refuses errors and stale versions", async (t) => {
  await using test = await startTestApp();
  const workflow = parseWorkflowYaml(largeWorkflowYaml(), { catalog: MODULE_CATALOG });
  const stored = await createWorkflow(test.kv, workflow, { actor: "test", sourceFormat: "yaml" });
  const client = await signedIn(test);
  const { html } = await client.page(`/workflows/${stored.id}/edit`);
  const text = /<textarea[^>]*>([^]*?)<\/textarea>/.exec(html)?.[1]
    ?.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&") ?? "";
  assert.match(text, /^name: triage-by-marking/);
  assert.match(html, /name="expected_version" value="1"/);

  await t.step("an unknown param is shown at its line", async () => {
    const broken = text.replace("scope: event", "scope: event, colour: red");
    const response = await client.post(`/workflows/${stored.id}/edit`, {
      source: broken,
      expected_version: "1",
    });
    assert.equal(response.status, 400);
    const page = await response.text();
    const line = broken.split("\n").findIndex((l) => l.includes("colour")) + 1;
    assert.match(page, new RegExp(`<a href="#L${line}">Line ${line}, column \\d+</a>`));
    assert.equal((await getWorkflow(test.kv, stored.id))?.version, 1);
  });

  await t.step("a valid edit saves version 2", async () => {
    const response = await client.post(`/workflows/${stored.id}/edit`, {
      source: text.replace("Route every", "Route each"),
      expected_version: "1",
    });
    assert.equal(response.status, 303);
    assert.equal((await getWorkflow(test.kv, stored.id))?.version, 2);
  });

  await t.step("an edit of version 1 after version 2 is refused (409), text kept", async () => {
    const response = await client.post(`/workflows/${stored.id}/edit`, {
      source: text.replace("Route every", "Route all"),
      expected_version: "1",
    });
    assert.equal(response.status, 409);
    const page = await response.text();
    assert.match(page, /version 1 is stale, the current version is 2/);
    assert.match(page, /Route all/);
  });
});

Deno.test("the approvals page shows what the publication sends out", async () => {
  await using setup = await startApprovalSetup();
  const answer = await setup.publish();
  assert.equal(answer.status, 403);
  const client = new ConsoleClient(setup.test);
  assert.equal((await client.signIn()).status, 303);
  const { html } = await client.page("/approvals");
  assert.match(html, /<dt>Publishes<\/dt>/);
  assert.match(html, /data-changes="first-publication"/);
  assert.match(html, /First publication: everything below goes out/);
  assert.match(html, /<div class="head">\+2 attributes added<\/div>/);
  assert.match(html, /<div class="add">tlp:amber<\/div>/);
});
