import assert from "node:assert/strict";
import { importBlueprint } from "../../engine/blueprint.ts";
import { MAX_DATA_DEPTH, MAX_NODES, MAX_WORKFLOW_BYTES } from "../../engine/limits.ts";
import { importMispWorkflow } from "../../engine/misp_codec.ts";
import type { Workflow } from "../../engine/model.ts";
import { validateWorkflow } from "../../engine/validate.ts";
import { utf8ByteLength } from "../../engine/workflow_limits.ts";
import { parseWorkflowSource } from "../../engine/workflow_source.ts";
import { WorkflowLimitError } from "../../engine/workflow_syntax_error.ts";
import { parseWorkflowYaml } from "../../engine/yaml_codec.ts";
import { errorResponse } from "../../server/app.ts";
import { createTestCatalog } from "../fixtures/test_catalog.ts";
import { startTestApp } from "../server/test_app.ts";

const catalog = createTestCatalog();
const DEEP = 10_000;
const NESTING = new RegExp(`nested deeper than the limit of ${MAX_DATA_DEPTH} levels`);

/** A small valid YAML workflow whose one node carries `params` as given (YAML text). */
function yamlWith(params: string): string {
  return `name: deep\ntrigger: event-publish\nstart: zmq\nnodes:\n  zmq:\n    module: push-zmq\n` +
    `    params:\n      data: ${params}\n`;
}

/** `{"a": {"a": … "x" …}}`, `levels` objects deep, as JSON text. */
function deepJsonText(levels: number): string {
  return '{"a":'.repeat(levels) + '"x"' + "}".repeat(levels);
}

/** A MISP workflow record whose trigger node's params are `params` (JSON text). */
function mispWith(params: string): string {
  return `{"Workflow": {"name": "deep", "trigger_id": "event-publish", "data": {"1": {"id": 1, ` +
    `"data": {"id": "event-publish", "module_type": "trigger", "indexed_params": {"p": ${params}}}, ` +
    `"outputs": {}}}}}`;
}

/** Checks `fn` throws the limit error (a SyntaxError, so a 400), never a stack overflow. */
function assertLimitError(fn: () => unknown, message: RegExp, limit: number): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WorkflowLimitError, `expected WorkflowLimitError, got ${error}`);
    assert.ok(error instanceof SyntaxError);
    assert.equal(error.name, "WorkflowLimitError");
    assert.equal(error.limit, limit);
    assert.match(error.message, message);
    assert.equal(errorResponse(error).status, 400);
    return true;
  });
}

function bigWorkflow(nodeCount: number): Workflow {
  const nodes = Array.from({ length: nodeCount - 1 }, (_, i) => ({
    id: `n${i}`,
    module: "push-zmq",
    kind: "action" as const,
    params: {},
    next: [],
  }));
  return {
    name: "big",
    description: "",
    trigger: "event-publish",
    enabled: true,
    order: 100,
    "on_timeout": "block",
    nodes: [
      { id: "trigger", module: "event-publish", kind: "trigger", params: {}, next: [["n0"]] },
      ...nodes,
    ],
  };
}

Deno.test("a 2 MB workflow source is refused with a 400 error naming MAX_WORKFLOW_BYTES", async (t) => {
  const padding = "x".repeat(2_000_000);
  const size = new RegExp(`too large: \\d+ bytes, the limit is ${MAX_WORKFLOW_BYTES} bytes`);
  await t.step("YAML through parseWorkflowSource()", () => {
    assertLimitError(
      () => parseWorkflowSource(`${yamlWith("x")}# ${padding}\n`, { catalog }),
      size,
      MAX_WORKFLOW_BYTES,
    );
  });
  await t.step("YAML through parseWorkflowYaml() itself", () => {
    assertLimitError(
      () => parseWorkflowYaml(`${yamlWith("x")}# ${padding}\n`),
      size,
      MAX_WORKFLOW_BYTES,
    );
  });
  await t.step("MISP JSON", () => {
    assertLimitError(
      () => parseWorkflowSource(mispWith(JSON.stringify(padding)), { catalog }),
      size,
      MAX_WORKFLOW_BYTES,
    );
  });
  await t.step("the byte count is UTF-8's", () => {
    assert.equal(utf8ByteLength("aé€😀"), new TextEncoder().encode("aé€😀").byteLength);
    assert.equal(utf8ByteLength("\ud800x"), new TextEncoder().encode("\ud800x").byteLength);
  });
});

Deno.test("a workflow of more than MAX_NODES nodes is refused naming the limit", async (t) => {
  const count = new RegExp(`too many nodes: ${MAX_NODES + 1}, the limit is ${MAX_NODES}`);
  await t.step("YAML", () => {
    const nodes = Array.from({ length: MAX_NODES }, (_, i) => `  n${i}: { module: push-zmq }`);
    const text = `name: big\ntrigger: event-publish\nnodes:\n${nodes.join("\n")}\n`;
    assertLimitError(() => parseWorkflowYaml(text), count, MAX_NODES);
  });
  await t.step("MISP JSON", () => {
    const data: Record<string, unknown> = {};
    for (let id = 1; id <= MAX_NODES + 1; id++) {
      data[id] = { id, data: { id: "push-zmq", "module_type": "action" }, outputs: {} };
    }
    const json = { Workflow: { name: "big", "trigger_id": "event-publish", data } };
    assertLimitError(() => importMispWorkflow(json, catalog), count, MAX_NODES);
  });
  await t.step("a blueprint (its new trigger node counts)", () => {
    const data = Array.from({ length: MAX_NODES }, (_, i) => ({
      id: i + 2,
      data: { id: "push-zmq", "module_type": "action" },
      outputs: {},
    }));
    const json = { WorkflowBlueprint: { name: "big", description: "[event-publish]", data } };
    assertLimitError(() => importBlueprint(json, { catalog }), count, MAX_NODES);
    assert.equal(
      importBlueprint({
        ...json,
        WorkflowBlueprint: { ...json.WorkflowBlueprint, data: data.slice(1) },
      }, { catalog }).nodes.length,
      MAX_NODES,
    );
  });
  await t.step("validateWorkflow() gives one too-many-nodes error", () => {
    const { errors } = validateWorkflow(bigWorkflow(MAX_NODES + 1), catalog);
    assert.deepEqual(errors.map((problem) => problem.code), ["too-many-nodes"]);
    assert.match(errors[0]!.message, count);
    const fits = validateWorkflow(bigWorkflow(MAX_NODES), catalog);
    assert.ok(!fits.errors.some((problem) => problem.code === "too-many-nodes"));
  });
});

Deno.test("a workflow source nested 10,000 levels is a 400 error naming MAX_DATA_DEPTH, not a stack overflow", async (t) => {
  await t.step("YAML flow lists", () => {
    const text = yamlWith("[".repeat(DEEP) + "]".repeat(DEEP));
    assertLimitError(() => parseWorkflowSource(text, { catalog }), NESTING, MAX_DATA_DEPTH);
  });
  await t.step("YAML flow mappings", () => {
    const text = yamlWith("{a: ".repeat(DEEP) + "x" + "}".repeat(DEEP));
    assertLimitError(() => parseWorkflowSource(text, { catalog }), NESTING, MAX_DATA_DEPTH);
  });
  await t.step("YAML block mappings as deep as the size limit allows", () => {
    let text =
      "name: deep\ntrigger: event-publish\nstart: zmq\nnodes:\n  zmq:\n    module: push-zmq\n" +
      "    params:\n";
    for (let level = 0; level < 1_300; level++) text += `${" ".repeat(level + 6)}a:\n`;
    assertLimitError(() => parseWorkflowSource(text, { catalog }), NESTING, MAX_DATA_DEPTH);
  });
  await t.step("YAML aliases that build depth the text does not show", () => {
    const lines = ["name: deep", "trigger: event-publish", "start: zmq", "nodes:", "  zmq:"];
    lines.push(
      "    module: push-zmq",
      "    params:",
      `      l0: &l0 ${"[".repeat(200)}${"]".repeat(200)}`,
    );
    for (let level = 1; level <= 4; level++) {
      lines.push(`      l${level}: &l${level} ${"[".repeat(200)}*l${level - 1}${"]".repeat(200)}`);
    }
    assertLimitError(
      () => parseWorkflowSource(`${lines.join("\n")}\n`, { catalog }),
      NESTING,
      MAX_DATA_DEPTH,
    );
  });
  await t.step("MISP JSON params", () => {
    assertLimitError(
      () => parseWorkflowSource(mispWith(deepJsonText(DEEP)), { catalog }),
      NESTING,
      MAX_DATA_DEPTH,
    );
  });
  await t.step("MISP JSON params given to importMispWorkflow() directly", () => {
    const json = JSON.parse(mispWith(deepJsonText(DEEP)));
    assertLimitError(() => importMispWorkflow(json, catalog), NESTING, MAX_DATA_DEPTH);
  });
  await t.step("MISP JSON whose data is a JSON string", () => {
    const graph = `{"1": {"id": 1, "data": {"id": "event-publish", "module_type": "trigger", ` +
      `"indexed_params": {"p": ${deepJsonText(DEEP)}}}, "outputs": {}}}`;
    const json = { Workflow: { name: "deep", "trigger_id": "event-publish", data: graph } };
    assertLimitError(() => importMispWorkflow(json, catalog), NESTING, MAX_DATA_DEPTH);
  });
  await t.step("a blueprint's params", () => {
    const text = `{"WorkflowBlueprint": {"name": "deep", "description": "[event-publish]", ` +
      `"data": [{"id": 2, "data": {"id": "push-zmq", "module_type": "action", ` +
      `"indexed_params": {"p": ${deepJsonText(DEEP)}}}, "outputs": {}}]}}`;
    assertLimitError(() => parseWorkflowSource(text, { catalog }), NESTING, MAX_DATA_DEPTH);
  });
  await t.step("deep lists anywhere in a JSON document", () => {
    const text = `{"Workflow": {"name": "deep", "junk": ${"[".repeat(DEEP)}${"]".repeat(DEEP)}}}`;
    assertLimitError(() => parseWorkflowSource(text, { catalog }), NESTING, MAX_DATA_DEPTH);
  });
  await t.step("params nested less deeply still parse", () => {
    const yaml = parseWorkflowSource(yamlWith("[".repeat(100) + "]".repeat(100)), { catalog });
    assert.equal(yaml.workflow.nodes.length, 2);
    const misp = parseWorkflowSource(mispWith(deepJsonText(100)), { catalog });
    assert.equal(misp.workflow.nodes.length, 1);
  });
});

Deno.test("POST /api/workflows answers a 4xx naming the limit for oversized, huge and deep workflows", async (t) => {
  await using test = await startTestApp();
  const post = (body: string, type: string) =>
    test.admin("/api/workflows", { method: "POST", headers: { "Content-Type": type }, body });
  const cases = [
    {
      name: "2 MB of YAML",
      type: "application/yaml",
      body: `${yamlWith("x")}# ${"x".repeat(2_000_000)}\n`,
      error: new RegExp(`the limit is ${MAX_WORKFLOW_BYTES} bytes`),
    },
    {
      name: `${MAX_NODES + 1} nodes`,
      type: "application/yaml",
      body: `name: big\ntrigger: event-publish\nnodes:\n${
        Array.from({ length: MAX_NODES }, (_, i) => `  n${i}: { module: push-zmq }`).join("\n")
      }\n`,
      error: new RegExp(`the limit is ${MAX_NODES}`),
    },
    {
      name: "10,000 levels of YAML",
      type: "application/yaml",
      body: yamlWith("[".repeat(DEEP) + "]".repeat(DEEP)),
      error: NESTING,
    },
    {
      name: "10,000 levels of MISP JSON",
      type: "application/json",
      body: mispWith(deepJsonText(DEEP)),
      error: NESTING,
    },
  ];
  await t.step("a body far over the limit is refused too (400 or the body cap's 413)", async () => {
    const response = await post(`${yamlWith("x")}# ${"x".repeat(8 * 1_048_576)}\n`, "text/yaml");
    assert.ok([400, 413].includes(response.status), `status ${response.status}`);
    assert.match((await response.json()).error, /limit/);
  });
  for (const { name, type, body, error } of cases) {
    await t.step(name, async () => {
      const response = await post(body, type);
      // The route may refuse an oversized body itself, with a 413 naming the same limit.
      const statuses = name === "2 MB of YAML" ? [400, 413] : [400];
      assert.ok(statuses.includes(response.status), `status ${response.status}`);
      assert.match(response.headers.get("Content-Type") ?? "", /application\/json/);
      assert.match((await response.json()).error, error);
    });
  }
});
