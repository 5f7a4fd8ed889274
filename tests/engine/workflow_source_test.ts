import assert from "node:assert/strict";
import { MAX_NODES, MAX_WORKFLOW_BYTES } from "../../engine/limits.ts";
import { exportMispWorkflow } from "../../engine/misp_codec.ts";
import { detectJsonFormat, parseWorkflowSource } from "../../engine/workflow_source.ts";
import { stringifyWorkflowYaml, WorkflowSyntaxError } from "../../engine/yaml_codec.ts";
import { createTestCatalog } from "../fixtures/test_catalog.ts";

const catalog = createTestCatalog();
const YAML = Deno.readTextFileSync(
  new URL("../fixtures/workflows/block_tlp_red.yaml", import.meta.url),
);
const BLUEPRINT = Deno.readTextFileSync(
  new URL(
    "../../../shared/data/blueprint_pap_red-and-tlp_red-blocking_1661328258.json",
    import.meta.url,
  ),
);

Deno.test("parseWorkflowSource() detects the format", async (t) => {
  const misp = JSON.stringify(
    exportMispWorkflow(
      parseWorkflowSource(YAML.replace("next: done", "next: stop")).workflow,
      catalog,
    ),
  );
  await t.step("YAML by content", () => {
    const parsed = parseWorkflowSource(YAML, { catalog });
    assert.equal(parsed.format, "yaml");
    assert.equal(parsed.workflow.name, "block-tlp-red-publication");
  });
  await t.step("YAML by extension, even when it looks like JSON", () => {
    const flow = '{"name": "flow", "trigger": "event-publish"}';
    assert.equal(parseWorkflowSource(flow, { filename: "flow.yml" }).format, "yaml");
    assert.equal(parseWorkflowSource(flow, { filename: "dir/FLOW.YAML" }).format, "yaml");
  });
  await t.step("YAML by content type", () => {
    const flow = '{"name": "flow", "trigger": "event-publish"}';
    const parsed = parseWorkflowSource(flow, { contentType: "application/yaml; charset=utf-8" });
    assert.equal(parsed.format, "yaml");
    assert.equal(parseWorkflowSource(flow, { contentType: "text/x-yaml" }).format, "yaml");
  });
  await t.step("a MISP workflow by content, extension or content type", () => {
    assert.equal(parseWorkflowSource(misp).format, "misp");
    assert.equal(parseWorkflowSource(misp, { filename: "w.json" }).format, "misp");
    const parsed = parseWorkflowSource(misp, { contentType: "application/json" });
    assert.equal(parsed.format, "misp");
    assert.equal(parsed.workflow.trigger, "event-publish");
    assert.equal(parsed.workflow.nodes.length, 4);
  });
  await t.step("a bare Drawflow graph", () => {
    const graph = JSON.stringify(JSON.parse(misp).Workflow.data);
    assert.equal(parseWorkflowSource(graph).format, "misp");
  });
  await t.step("a blueprint, with its trigger or a given one", () => {
    const parsed = parseWorkflowSource(BLUEPRINT, { filename: "b.json", catalog });
    assert.equal(parsed.format, "blueprint");
    assert.equal(parsed.workflow.trigger, "enrichment-before-query");
    const forced = parseWorkflowSource(BLUEPRINT, { trigger: "event-publish" });
    assert.equal(forced.workflow.trigger, "event-publish");
  });
  await t.step("a YAML file written by stringifyWorkflowYaml", () => {
    const parsed = parseWorkflowSource(YAML, { catalog });
    const again = parseWorkflowSource(stringifyWorkflowYaml(parsed.workflow, catalog), { catalog });
    assert.equal(again.format, "yaml");
    assert.equal(again.workflow.nodes.length, parsed.workflow.nodes.length);
  });
});

Deno.test("detectJsonFormat() tells workflows, blueprints and other JSON apart", () => {
  assert.equal(detectJsonFormat({ WorkflowBlueprint: { data: [] } }), "blueprint");
  assert.equal(detectJsonFormat({ name: "x", data: [] }), "blueprint");
  assert.equal(detectJsonFormat({ Workflow: { data: {} } }), "misp");
  assert.equal(detectJsonFormat({ name: "x", data: "{}" }), "misp");
  assert.equal(
    detectJsonFormat({ "1": { data: { module_type: "trigger" } }, _frames: {} }),
    "misp",
  );
  assert.equal(detectJsonFormat({ Event: { info: "x" } }), undefined);
  assert.equal(detectJsonFormat({ data: 3 }), undefined);
  assert.equal(detectJsonFormat({}), undefined);
  assert.equal(detectJsonFormat([1]), undefined);
});

Deno.test("parseWorkflowSource() says what it expected of other JSON", async (t) => {
  const expected =
    'Unrecognised workflow JSON: expected a MISP workflow ({"Workflow": {…}} or its Drawflow graph) ' +
    'or a MISP blueprint ({"WorkflowBlueprint": {…}})';
  for (const text of ['{"Event": {"info": "x"}}', "[1, 2]", "{}"]) {
    await t.step(text, () => {
      assert.throws(() => parseWorkflowSource(text), {
        name: "WorkflowSyntaxError",
        message: expected,
      });
    });
  }
  await t.step("invalid JSON", () => {
    assert.throws(() => parseWorkflowSource('{"Workflow": ', { filename: "x.json" }), (error) => {
      assert.ok(error instanceof WorkflowSyntaxError);
      assert.match(error.message, /^Invalid JSON: /);
      return true;
    });
  });
  await t.step("YAML errors keep their line and column", () => {
    assert.throws(() => parseWorkflowSource(YAML.replace("then: stop", "thn: stop")), {
      name: "WorkflowSyntaxError",
      line: 16,
      column: 5,
    });
  });
});

Deno.test("parseWorkflowSource() enforces the size limits", async (t) => {
  await t.step("MAX_WORKFLOW_BYTES, counted in UTF-8 bytes", () => {
    const padding = "é".repeat(MAX_WORKFLOW_BYTES / 2);
    assert.throws(() => parseWorkflowSource(`${YAML}# ${padding}\n`), {
      name: "WorkflowLimitError",
      message: `Workflow source too large: ${
        new TextEncoder().encode(`${YAML}# ${padding}\n`).byteLength
      } bytes, the limit is ${MAX_WORKFLOW_BYTES} bytes`,
    });
  });
  await t.step("MAX_NODES", () => {
    const nodes = Array.from({ length: MAX_NODES }, (_, i) => `  n${i}: { module: push-zmq }`);
    const text = `name: big\ntrigger: event-publish\nnodes:\n${nodes.join("\n")}\n`;
    assert.throws(() => parseWorkflowSource(text), {
      name: "WorkflowLimitError",
      message: `Workflow "big" has too many nodes: ${MAX_NODES + 1}, the limit is ${MAX_NODES}`,
    });
    const fits = `name: big\ntrigger: event-publish\nnodes:\n${nodes.slice(1).join("\n")}\n`;
    assert.equal(parseWorkflowSource(fits).workflow.nodes.length, MAX_NODES);
  });
});
