import assert from "node:assert/strict";
import fc from "fast-check";
import { attachTrigger, entryNodes } from "../../engine/attach_trigger.ts";
import { exportBlueprint, importBlueprint } from "../../engine/blueprint.ts";
import { assignMispIds, exportMispWorkflow, importMispWorkflow } from "../../engine/misp_codec.ts";
import type { Workflow } from "../../engine/model.ts";
import { validateWorkflow } from "../../engine/validate.ts";
import {
  parseWorkflowYaml,
  stringifyWorkflowYaml,
  WorkflowSyntaxError,
} from "../../engine/yaml_codec.ts";
import { createTestCatalog, TEST_DESCRIPTORS } from "../fixtures/test_catalog.ts";
import { canonicalWorkflow, workflowArbitrary } from "../fixtures/workflow_arbitrary.ts";

const catalog = createTestCatalog();

const FILES = {
  abuseipdb: "blueprint_curation---toggle-automation-flag-from-network-ioc-based-on-abuseipdb.json",
  hashlookup: "blueprint_disable-to_ids-flag-for-existing-hash-in-hashlookup_1667228944.json",
  pap: "blueprint_pap_red-and-tlp_red-blocking_1661328258.json",
  bgp: "blueprint_set-tag-based-on-bgp-ranking-maliciousness-level_1668498668.json",
};

function readBlueprint(name: keyof typeof FILES): unknown {
  const url = new URL(`../../../shared/data/${FILES[name]}`, import.meta.url);
  return JSON.parse(Deno.readTextFileSync(url));
}

function edges(workflow: Workflow): Record<string, string[][]> {
  return Object.fromEntries(workflow.nodes.map((node) => [node.id, node.next]));
}

function node(workflow: Workflow, id: string) {
  const found = workflow.nodes.find((candidate) => candidate.id === id);
  assert.ok(found, `node "${id}" missing`);
  return found;
}

Deno.test("importBlueprint() imports the PAP:RED blocking blueprint", () => {
  const workflow = importBlueprint(readBlueprint("pap"), { catalog });
  assert.equal(workflow.name, "pap-red-and-tlp-red-blocking");
  assert.equal(workflow.trigger, "enrichment-before-query");
  assert.equal(
    workflow.description,
    "Blocks action if any attributes have the `PAP:RED` or tlp:red` tag",
  );
  assert.equal(workflow.on_timeout, "block");
  assert.deepEqual(workflow.nodes.map((n) => [n.id, n.module, n.kind]), [
    ["1", "enrichment-before-query", "trigger"],
    ["53", "tag-if", "logic"],
    ["54", "stop-execution", "action"],
  ]);
  assert.deepEqual(node(workflow, "53").params, {
    scope: "event_attribute",
    condition: "in_or",
    tags: ["PAP:RED", "tlp:red"],
  });
  assert.deepEqual(node(workflow, "54").params, {});
  assert.equal(node(workflow, "53").filters, undefined);
  assert.deepEqual(edges(workflow), { "1": [["53"]], "53": [["54"], []], "54": [] });
  assert.deepEqual(validateWorkflow(workflow, catalog), { errors: [], warnings: [] });
});

Deno.test("importBlueprint() imports the hashlookup blueprint and skips its trigger node", () => {
  const workflow = importBlueprint(readBlueprint("hashlookup"), { catalog });
  assert.equal(workflow.trigger, "event-publish");
  assert.equal(workflow.description, "Disable to_ids flag for existing hash in hashlookup");
  assert.deepEqual(workflow.nodes.map((n) => [n.id, n.module]), [
    ["1", "event-publish"],
    ["10", "attach-enrichment"],
    ["13", "attribute_ids_flag_operation"],
    ["16", "tag_operation"],
  ]);
  assert.deepEqual(node(workflow, "1").params, {});
  assert.deepEqual(node(workflow, "10").params, { modules: "hashlookup" });
  assert.deepEqual(node(workflow, "13").params, { action: "remove" });
  assert.deepEqual(node(workflow, "13").filters, {
    selector: "Event._AttributeFlattened.{n}",
    value: "filename",
    operator: "equals",
    path: "enrichment.{n}.Object.{n}.Attribute.{n}[object_relation=FileName].type",
  });
  assert.deepEqual(node(workflow, "16").params, { scope: "attribute", tags: ["ids-removed"] });
  assert.equal(node(workflow, "16").filters?.operator, "in");
  assert.deepEqual(edges(workflow), {
    "1": [["10"]],
    "10": [["13"]],
    "13": [["16"]],
    "16": [[]],
  });
  const { errors, warnings } = validateWorkflow(workflow, catalog);
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings.map((warning) => warning.message), [
    'Node "10" (attach-enrichment), field "params.modules": expected a list of values, got "hashlookup"; MISP wraps a single value into a list',
  ]);
});

Deno.test("importBlueprint() imports the BGP ranking blueprint with its concurrent task", () => {
  const workflow = importBlueprint(readBlueprint("bgp"), { catalog });
  assert.equal(workflow.trigger, "event-publish");
  assert.equal(
    workflow.description,
    "Set tag based on BGP Ranking maliciousness level. A threshold of 50 is set by default but can be modified.",
  );
  assert.deepEqual(workflow.nodes.map((n) => [n.id, n.module]), [
    ["1", "event-publish"],
    ["28", "tag_operation"],
    ["29", "attach-enrichment"],
    ["30", "concurrent-task"],
  ]);
  assert.deepEqual(node(workflow, "28").params, {
    scope: "attribute",
    tags: ['adversary:infrastructure-state="active"'],
  });
  assert.equal(
    node(workflow, "28").filters?.path,
    "enrichment.{n}.Object.{n}[name=bgp-ranking].Attribute.{n}[object_relation=position][value<50].type",
  );
  assert.deepEqual(edges(workflow), { "1": [["30"]], "28": [[]], "29": [["28"]], "30": [["29"]] });
});

Deno.test("importBlueprint() imports the AbuseIPDB curation blueprint", async (t) => {
  await t.step("without a trigger it is a disabled draft with no trigger node", () => {
    const workflow = importBlueprint(readBlueprint("abuseipdb"), { catalog });
    assert.equal(workflow.trigger, null);
    assert.equal(workflow.enabled, false);
    assert.equal(workflow.nodes.length, 14);
    assert.ok(workflow.nodes.every((n) => n.kind !== "trigger"));
    assert.deepEqual(entryNodes(workflow), ["60"]);
    const { errors, warnings } = validateWorkflow(workflow, catalog);
    assert.deepEqual(errors, []);
    assert.deepEqual(warnings.map((problem) => problem.code), ["no-trigger"]);
    const attached = attachTrigger(workflow, "event-publish", catalog);
    assert.deepEqual(
      canonicalWorkflow(attached, catalog),
      canonicalWorkflow(
        importBlueprint(readBlueprint("abuseipdb"), { trigger: "event-publish", catalog }),
        catalog,
      ),
    );
  });
  await t.step("with a trigger, the root node hangs off it and joins are kept", () => {
    const workflow = importBlueprint(readBlueprint("abuseipdb"), {
      trigger: "event-publish",
      catalog,
    });
    assert.equal(workflow.trigger, "event-publish");
    assert.equal(workflow.nodes.length, 15);
    assert.deepEqual(node(workflow, "60").params, {
      "filtering-label": "A",
      selector: "Event._AttributeFlattened.{n}",
      value: "",
      value_list: ["ip-src", "ip-dst", "hostname", "domain", "domain|ip"],
      operator: "in_or",
      hash_path: "type",
    });
    assert.equal(node(workflow, "57").module, "Module_attribute_comment_operation");
    assert.match(node(workflow, "57").params.comment as string, /^\{% for objectAttribute in/);
    assert.deepEqual(edges(workflow), {
      "1": [["60"]],
      "50": [["62"], ["52"]],
      "51": [["54"]],
      "52": [["53"]],
      "53": [["57"]],
      "54": [["58"]],
      "55": [["56"]],
      "56": [["57"]],
      "57": [["59"]],
      "58": [["50"], ["61"]],
      "59": [[]],
      "60": [["51"]],
      "61": [["55"], ["63"]],
      "62": [["59"]],
      "63": [["59"]],
    });
    assert.deepEqual(validateWorkflow(workflow, catalog), { errors: [], warnings: [] });
  });
});

Deno.test("importBlueprint() rebuilds connections as MISP's insert does", async (t) => {
  const blueprint = (nodes: unknown[], description = "[event-after-save]\nx") => ({
    WorkflowBlueprint: { name: "Fragment", description, data: nodes },
  });
  const raw = (
    id: number,
    module: string,
    kind: string,
    inputs: string[],
    outputs: string[][],
  ) => ({
    id,
    data: { id: module, module_type: kind, indexed_params: [] },
    inputs: { input_1: { connections: inputs.map((node) => ({ node, input: "output_1" })) } },
    outputs: Object.fromEntries(
      outputs.map((targets, index) => [
        `output_${index + 1}`,
        { connections: targets.map((node) => ({ node, output: "input_1" })) },
      ]),
    ),
  });
  await t.step("edges to missing nodes and outputs the module lacks are dropped", () => {
    const workflow = importBlueprint(
      blueprint([
        raw(5, "webhook", "action", ["1"], [["6", "999"], ["6"]]),
        raw(6, "push-zmq", "action", ["5"], [["404"]]),
      ]),
      { catalog },
    );
    assert.equal(workflow.on_timeout, "allow");
    assert.deepEqual(edges(workflow), { "1": [["5"]], "5": [["6"]], "6": [[]] });
  });
  await t.step("nodes fed from outside hang off the trigger in node order", () => {
    const workflow = importBlueprint(
      blueprint([
        raw(8, "push-zmq", "action", ["3"], []),
        raw(1, "webhook", "action", ["77"], [["8"]]),
        raw(9, "push-zmq", "action", [], []),
      ]),
    );
    assert.deepEqual(workflow.nodes.map((n) => n.id), ["trigger", "8", "1", "9"]);
    assert.deepEqual(workflow.nodes[0]?.next, [["8", "1", "9"]]);
  });
  await t.step("options.trigger wins over the description", () => {
    const workflow = importBlueprint(blueprint([raw(5, "push-zmq", "action", [], [])]), {
      trigger: "event-publish",
    });
    assert.equal(workflow.trigger, "event-publish");
    assert.equal(workflow.description, "x");
  });
  await t.step("data may be a JSON string", () => {
    const workflow = importBlueprint({
      WorkflowBlueprint: {
        name: "S",
        description: "[event-publish]",
        data: JSON.stringify([raw(5, "push-zmq", "action", [], [])]),
      },
    });
    assert.deepEqual(workflow.nodes.map((n) => n.id), ["1", "5"]);
  });
  await t.step("what is not a blueprint", () => {
    assert.throws(() => importBlueprint(3), WorkflowSyntaxError);
    assert.throws(() => importBlueprint({ WorkflowBlueprint: { data: {} } }), {
      message: 'Field "data": expected the list of blueprint nodes',
    });
    assert.throws(() => importBlueprint({ WorkflowBlueprint: { data: [{ data: {} }] } }), {
      message: 'Field "data.0": expected a node with an id',
    });
  });
});

Deno.test("exportBlueprint() writes MISP's blueprint file format", () => {
  const workflow = importBlueprint(readBlueprint("bgp"), { catalog });
  const exported = exportBlueprint(workflow, catalog).WorkflowBlueprint;
  assert.equal(exported.name, "set-tag-based-on-bgp-ranking-maliciousness-level");
  assert.match(exported.description, /^\[event-publish\]\nSet tag based on BGP Ranking/);
  assert.match(exported.uuid, /^[0-9a-f-]{36}$/);
  assert.match(exported.timestamp, /^[0-9]+$/);
  assert.equal(exported.default, false);
  assert.deepEqual(exported.data.map((n) => [n.id, n.data.id]), [
    [1, "event-publish"],
    [28, "tag_operation"],
    [29, "attach-enrichment"],
    [30, "concurrent-task"],
  ]);
  const again = importBlueprint(JSON.parse(JSON.stringify({ WorkflowBlueprint: exported })), {
    catalog,
  });
  assert.deepEqual(canonicalWorkflow(again, catalog), canonicalWorkflow(workflow, catalog));
});

Deno.test("real blueprints survive YAML → MISP JSON → YAML and MISP JSON → YAML → MISP JSON", async (t) => {
  for (const name of Object.keys(FILES) as (keyof typeof FILES)[]) {
    await t.step(name, () => {
      const workflow = importBlueprint(readBlueprint(name), { trigger: "event-publish", catalog });
      const yaml = parseWorkflowYaml(stringifyWorkflowYaml(workflow, catalog), { catalog });
      assert.deepEqual(canonicalWorkflow(yaml, catalog), canonicalWorkflow(workflow, catalog));
      const ids = assignMispIds(yaml);
      const misp = importMispWorkflow(
        JSON.parse(JSON.stringify(exportMispWorkflow(yaml, catalog))),
      );
      assert.deepEqual(
        canonicalWorkflow(misp, catalog),
        canonicalWorkflow(yaml, catalog, (id) => String(ids.get(id))),
      );
      const yamlAgain = parseWorkflowYaml(stringifyWorkflowYaml(misp, catalog), { catalog });
      assert.deepEqual(canonicalWorkflow(yamlAgain, catalog), canonicalWorkflow(misp, catalog));

      const first = JSON.parse(JSON.stringify(exportMispWorkflow(workflow, catalog)));
      const second = exportMispWorkflow(
        parseWorkflowYaml(stringifyWorkflowYaml(importMispWorkflow(first), catalog), { catalog }),
        catalog,
      );
      assert.deepEqual(second, first);
    });
  }
});

Deno.test("exportBlueprint() then importBlueprint() keeps connected graphs (property)", () => {
  fc.assert(
    fc.property(workflowArbitrary(TEST_DESCRIPTORS, { connected: true }), (workflow) => {
      const exported = JSON.parse(JSON.stringify(exportBlueprint(workflow, catalog)));
      const imported = importBlueprint(exported, { catalog });
      const ids = assignMispIds(workflow);
      assert.equal(imported.trigger, workflow.trigger);
      assert.equal(imported.description, workflow.description.trim());
      assert.deepEqual(
        canonicalWorkflow(imported, catalog),
        canonicalWorkflow(workflow, catalog, (id) => String(ids.get(id))),
      );
    }),
    { numRuns: 100 },
  );
});
