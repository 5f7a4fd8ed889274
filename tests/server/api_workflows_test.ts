import assert from "node:assert/strict";
import { parse } from "yaml";
import { listAudit } from "../../store/audit.ts";
import { listEnabledWorkflows } from "../../store/workflows.ts";
import {
  ADMIN_TOKEN,
  importRedBlueprint,
  mispQuery,
  readSharedData,
  realEvent,
  startTestApp,
} from "./test_app.ts";

const EXAMPLE = new URL("../../examples/block-enrichment-tlp-red-pap-red.yaml", import.meta.url);

async function createExample(test: Awaited<ReturnType<typeof startTestApp>>): Promise<string> {
  const response = await test.admin("/api/workflows", {
    method: "POST",
    headers: { "Content-Type": "application/yaml" },
    body: await Deno.readTextFile(EXAMPLE),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()).workflow.id;
}

Deno.test("/api requires the admin bearer token", async (t) => {
  await using test = await startTestApp();
  await t.step("missing: 401", async () => {
    const response = await test.request("/api/workflows");
    assert.equal(response.status, 401);
    assert.match((await response.json()).error, /Authorization: Bearer/);
  });
  await t.step("wrong: 401", async () => {
    const response = await test.request("/api/workflows", {
      headers: { Authorization: "Bearer not-the-token-at-all" },
    });
    assert.equal(response.status, 401);
  });
  await t.step("right: 200", async () => {
    const response = await test.request("/api/workflows", {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { items: [] });
  });
});

Deno.test("POST /api/workflows creates from YAML, MISP blueprints, and refuses bad input", async (t) => {
  await using test = await startTestApp();
  await t.step("YAML: 201 with the stored workflow", async () => {
    const id = await createExample(test);
    const stored = await (await test.admin(`/api/workflows/${id}`)).json();
    assert.equal(stored.name, "block-enrichment-tlp-red-pap-red");
    assert.equal(stored.source_format, "yaml");
    assert.equal(stored.version, 1);
  });
  await t.step("blueprint: 201, trigger from the description", async () => {
    const id = await importRedBlueprint(test);
    const stored = await (await test.admin(`/api/workflows/${id}`)).json();
    assert.equal(stored.source_format, "blueprint");
    assert.equal(stored.workflow.trigger, "enrichment-before-query");
  });
  await t.step("same name again: 409", async () => {
    const response = await test.admin("/api/workflows", {
      method: "POST",
      headers: { "Content-Type": "application/yaml" },
      body: await Deno.readTextFile(EXAMPLE),
    });
    assert.equal(response.status, 409);
    assert.match((await response.json()).error, /name is taken/);
  });
  await t.step("invalid workflow: 400 with every problem", async () => {
    const yaml = (await Deno.readTextFile(EXAMPLE))
      .replace("name: block-enrichment-tlp-red-pap-red", "name: broken")
      .replace("module: stop-execution", "module: stop-exec")
      .replace("module: tag-if", "module: tag-iff");
    const response = await test.admin("/api/workflows", {
      method: "POST",
      headers: { "Content-Type": "application/yaml" },
      body: yaml,
    });
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.match(body.error, /Cannot save workflow "broken"/);
    const nodes = body.problems.map((problem: { node?: string }) => problem.node).sort();
    assert.deepEqual(nodes, ["red-tags", "stop"]);
  });
  await t.step("YAML syntax error: 400", async () => {
    const response = await test.admin("/api/workflows", {
      method: "POST",
      headers: { "Content-Type": "application/yaml" },
      body: "name: [unclosed",
    });
    assert.equal(response.status, 400);
  });
  await t.step("JSON that is no workflow: 400", async () => {
    const response = await test.admin("/api/workflows", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ hello: "world" }),
    });
    assert.equal(response.status, 400);
    assert.match((await response.json()).error, /WorkflowBlueprint/);
  });
  await t.step("unsupported content type: 415", async () => {
    const response = await test.admin("/api/workflows", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "x",
    });
    assert.equal(response.status, 415);
  });
});

Deno.test("GET /api/workflows/:id exports JSON, YAML and MISP JSON", async (t) => {
  await using test = await startTestApp();
  const id = await createExample(test);
  await t.step("yaml", async () => {
    const response = await test.admin(`/api/workflows/${id}?format=yaml`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("Content-Type") ?? "", /yaml/);
    const parsed = parse(await response.text());
    assert.equal(parsed.trigger, "enrichment-before-query");
  });
  await t.step("misp", async () => {
    const response = await test.admin(`/api/workflows/${id}?format=misp`);
    const body = await response.json();
    assert.equal(body.Workflow.trigger_id, "enrichment-before-query");
  });
  await t.step("by name, and unknown ids", async () => {
    assert.equal((await test.admin("/api/workflows/block-enrichment-tlp-red-pap-red")).status, 200);
    assert.equal((await test.admin("/api/workflows/nope")).status, 404);
    assert.equal((await test.admin(`/api/workflows/${id}?format=xml`)).status, 400);
  });
});

Deno.test("PUT, disable, enable, versions and DELETE keep history and the audit log", async (t) => {
  await using test = await startTestApp();
  const id = await createExample(test);
  const yaml = await Deno.readTextFile(EXAMPLE);

  await t.step("replace: version 2; a stale expected version: 409", async () => {
    const changed = yaml.replace("condition: in_or", "condition: in_and");
    const response = await test.admin(`/api/workflows/${id}?expected_version=1`, {
      method: "PUT",
      headers: { "Content-Type": "application/yaml" },
      body: changed,
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal((await response.json()).workflow.version, 2);
    const stale = await test.admin(`/api/workflows/${id}?expected_version=1`, {
      method: "PUT",
      headers: { "Content-Type": "application/yaml" },
      body: yaml,
    });
    assert.equal(stale.status, 409);
  });

  await t.step("disable for 2h, then enable", async () => {
    const disabled = await test.admin(`/api/workflows/${id}/disable`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ for: "2h" }),
    });
    assert.equal(disabled.status, 200);
    const workflow = (await disabled.json()).workflow;
    assert.equal(workflow.workflow.enabled, false);
    const until = Date.parse(workflow.disabled_until);
    assert.ok(until > Date.now() + 7_000_000 && until <= Date.now() + 7_200_000);
    const bad = await test.admin(`/api/workflows/${id}/disable`, {
      method: "POST",
      body: JSON.stringify({ for: "soon" }),
    });
    assert.equal(bad.status, 400);
    const enabled = await test.admin(`/api/workflows/${id}/enable`, { method: "POST" });
    assert.equal((await enabled.json()).workflow.workflow.enabled, true);
  });

  await t.step("versions list every save", async () => {
    const versions = (await (await test.admin(`/api/workflows/${id}/versions`)).json()).items;
    assert.deepEqual(versions.map((v: { version: number }) => v.version), [1, 2, 3, 4]);
    const first = await test.admin(`/api/workflows/${id}/versions/1`);
    assert.equal((await first.json()).workflow.nodes.length, 3);
    assert.equal((await test.admin(`/api/workflows/${id}/versions/99`)).status, 404);
  });

  await t.step("delete: 200, then 404", async () => {
    assert.equal((await test.admin(`/api/workflows/${id}`, { method: "DELETE" })).status, 200);
    assert.equal((await test.admin(`/api/workflows/${id}`)).status, 404);
  });

  await t.step("every change is in the audit log, through the API too", async () => {
    const actions = (await listAudit(test.kv)).items.map((entry) => entry.action).reverse();
    assert.deepEqual(actions, [
      "workflow.create",
      "workflow.replace",
      "workflow.disable",
      "workflow.enable",
      "workflow.delete",
    ]);
    const page = await (await test.admin("/api/audit?limit=2")).json();
    assert.equal(page.items.length, 2);
    assert.equal(page.items[0].action, "workflow.delete");
    const next = await (await test.admin(`/api/audit?limit=10&cursor=${page.cursor}`)).json();
    assert.equal(next.items.length, 3);
  });
});

Deno.test("POST /api/workflows/:id/dry-run decides on a posted real event and records a dry run", async () => {
  await using test = await startTestApp();
  const id = await importRedBlueprint(test);
  const response = await test.admin(`/api/workflows/${id}/dry-run`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(await realEvent({ tlpRed: true })),
  });
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.verdict, "block");
  assert.equal(body.run.dry_run, true);
  assert.equal(body.run.outcome, "blocked");
  const stored = await (await test.admin(`/api/runs/${body.run.id}`)).json();
  assert.equal(stored.dry_run, true);
  assert.ok(stored.trace.some((entry: { module: string }) => entry.module === "stop-execution"));
});

Deno.test("run-workflow runs another stored workflow through the server's runner", async () => {
  await using test = await startTestApp();
  const create = async (yaml: string) => {
    const response = await test.admin("/api/workflows", {
      method: "POST",
      headers: { "Content-Type": "application/yaml" },
      body: yaml,
    });
    assert.equal(response.status, 201, await response.clone().text());
    return (await response.json()).workflow.id as string;
  };
  await create(`name: red-check
trigger: event-after-save
start: is-red
nodes:
  is-red:
    module: tag-if
    params: { scope: event_attribute, condition: in_or, tags: [tlp:red] }
    then: stop
  stop:
    module: stop-execution
    params: { message: red }
`);
  const caller = await create(`name: caller
trigger: event-publish
start: run
nodes:
  run:
    module: run-workflow
    params: { workflows: [red-check], input_data: roaming_data }
`);
  const response = await test.admin(`/api/workflows/${caller}/dry-run`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(await realEvent({ tlpRed: true })),
  });
  assert.equal(response.status, 200);
  const body = await response.json();
  const node = body.run.trace.find((entry: { node_id: string }) => entry.node_id === "run");
  assert.equal(node.status, "success");
  assert.match(node.actions[0].summary, /^run workflow "red-check" on .*: blocked$/);
  assert.equal(node.actions[0].details.outcome, "blocked");
});

const CURATION = new URL(
  "../fixtures/workflows/misp-blueprints/blueprint_curation---remove-automation-flag-from-known-non-malicious-hashes.json",
  import.meta.url,
);

Deno.test("a trigger-less curation blueprint imports as a draft and is enabled with a trigger", async (t) => {
  await using test = await startTestApp();
  let id = "";
  await t.step("POST without ?trigger=: 201, no trigger, disabled, a warning", async () => {
    const response = await test.admin("/api/workflows", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: await Deno.readTextFile(CURATION),
    });
    assert.equal(response.status, 201, await response.clone().text());
    const body = await response.json();
    id = body.workflow.id;
    assert.equal(body.workflow.workflow.trigger, null);
    assert.equal(body.workflow.workflow.enabled, false);
    assert.ok(
      body.warnings.some((w: { code: string; message: string }) =>
        w.code === "no-trigger" && /choose a trigger to enable it/.test(w.message)
      ),
    );
  });
  await t.step("listed for no trigger, run by none", async () => {
    const all = await (await test.admin("/api/workflows")).json();
    assert.deepEqual(all.items.map((item: { id: string }) => item.id), [id]);
    const byTrigger = await (await test.admin("/api/workflows?trigger=event-publish")).json();
    assert.deepEqual(byTrigger.items, []);
    assert.deepEqual(await listEnabledWorkflows(test.kv, "event-publish"), []);
  });
  await t.step("YAML says trigger: null; MISP JSON and dry runs need a trigger: 409", async () => {
    const yaml = await (await test.admin(`/api/workflows/${id}?format=yaml`)).text();
    assert.equal(parse(yaml).trigger, null);
    const misp = await test.admin(`/api/workflows/${id}?format=misp`);
    assert.equal(misp.status, 409);
    assert.match((await misp.json()).error, /has no trigger; choose a trigger first/);
    const dry = await test.admin(`/api/workflows/${id}/dry-run`, {
      method: "POST",
      body: JSON.stringify(await realEvent()),
    });
    assert.equal(dry.status, 409);
    assert.match((await dry.json()).error, /has no trigger yet: choose a trigger to enable it/);
  });
  await t.step("enable without a trigger: 409; with an unknown one: 400", async () => {
    const bare = await test.admin(`/api/workflows/${id}/enable`, { method: "POST" });
    assert.equal(bare.status, 409);
    assert.match((await bare.json()).error, /choose a trigger to enable it/);
    const unknown = await test.admin(`/api/workflows/${id}/enable`, {
      method: "POST",
      body: JSON.stringify({ trigger: "event-publsh" }),
    });
    assert.equal(unknown.status, 400);
    assert.match((await unknown.json()).error, /Unknown trigger "event-publsh"/);
    const wrongType = await test.admin(`/api/workflows/${id}/enable`, {
      method: "POST",
      body: JSON.stringify({ trigger: 5 }),
    });
    assert.equal(wrongType.status, 400);
  });
  await t.step("enable with a trigger: a new version, wired, listed and audited", async () => {
    const response = await test.admin(`/api/workflows/${id}/enable`, {
      method: "POST",
      body: JSON.stringify({ trigger: "event-publish" }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const { workflow } = await response.json();
    assert.equal(workflow.workflow.trigger, "event-publish");
    assert.equal(workflow.workflow.enabled, true);
    assert.equal(workflow.version, 2);
    assert.equal(workflow.workflow.nodes[0].module, "event-publish");
    const listed = await listEnabledWorkflows(test.kv, "event-publish");
    assert.deepEqual(listed.map((stored) => stored.id), [id]);
    const audit = await listAudit(test.kv);
    const entry = audit.items.find((item) => item.action === "workflow.enable");
    assert.equal(entry?.details?.trigger, "event-publish");
    const misp = await test.admin(`/api/workflows/${id}?format=misp`);
    assert.equal(misp.status, 200);
  });
});

Deno.test("an imported blueprint starts disabled unless ?enable=true", async (t) => {
  await using test = await startTestApp();
  const pap = await readSharedData("blueprint_pap_red-and-tlp_red-blocking_1661328258.json");
  const post = async (query: string, name?: string) =>
    await test.admin(`/api/workflows${query}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: name ? pap.replace('"PAP:RED and tlp:red Blocking"', JSON.stringify(name)) : pap,
    });
  await t.step("the PAP:RED blueprint imported as it is blocks nothing", async () => {
    const response = await post("");
    assert.equal(response.status, 201, await response.clone().text());
    const { workflow } = await response.json();
    assert.equal(workflow.workflow.trigger, "enrichment-before-query");
    assert.equal(workflow.workflow.enabled, false);
    const verdict = await mispQuery(
      test,
      "flowgate_enrichment_before_query",
      await realEvent({ tlpRed: true }),
    );
    assert.deepEqual(await verdict.json(), { data: true });
  });
  await t.step("?enable=true: it blocks at once", async () => {
    const response = await post("?enable=true", "PAP red enabled");
    assert.equal(response.status, 201, await response.clone().text());
    assert.equal((await response.json()).workflow.workflow.enabled, true);
    const verdict = await mispQuery(
      test,
      "flowgate_enrichment_before_query",
      await realEvent({ tlpRed: true }),
    );
    assert.match((await verdict.json()).error, /stop-execution/);
  });
  await t.step("?enable=true on a trigger-less blueprint, or a bad value: 400", async () => {
    const draft = await test.admin("/api/workflows?enable=true", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: await Deno.readTextFile(CURATION),
    });
    assert.equal(draft.status, 400);
    assert.match((await draft.json()).error, /without a trigger cannot be enabled/);
    const bad = await post("?enable=yes", "bad");
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /Invalid "enable" value "yes"/);
  });
});
