import assert from "node:assert/strict";
import fc from "fast-check";
import {
  assignMispIds,
  type DrawflowNode,
  exportMispWorkflow,
  importMispWorkflow,
  persistParams,
  toWorkflowName,
} from "../../engine/misp_codec.ts";
import type { Workflow } from "../../engine/model.ts";
import {
  parseWorkflowYaml,
  stringifyWorkflowYaml,
  WorkflowSyntaxError,
} from "../../engine/yaml_codec.ts";
import { createTestCatalog, TEST_DESCRIPTORS } from "../fixtures/test_catalog.ts";
import { canonicalWorkflow, workflowArbitrary } from "../fixtures/workflow_arbitrary.ts";

const catalog = createTestCatalog();

function readBlueprint(name: string): { data: Record<string, unknown>[] } {
  const url = new URL(`../../../shared/data/${name}`, import.meta.url);
  return JSON.parse(Deno.readTextFileSync(url)).WorkflowBlueprint;
}

/**
 * A MISP workflow record assembled from real data: the trigger node of the hashlookup blueprint
 * (an `event-publish` node as MISP saves it) and the IF :: Tag / Stop execution nodes of the
 * PAP:RED blueprint, which connect to trigger "1".
 */
function realMispRecord(): Record<string, unknown> {
  const hashlookup = readBlueprint(
    "blueprint_disable-to_ids-flag-for-existing-hash-in-hashlookup_1667228944.json",
  );
  const pap = readBlueprint("blueprint_pap_red-and-tlp_red-blocking_1661328258.json");
  const trigger = structuredClone(hashlookup.data[0]) as {
    outputs: { output_1: { connections: unknown[] } };
  };
  trigger.outputs.output_1.connections = [{ node: "53", output: "input_1" }];
  const [ifTag, stop] = pap.data;
  return {
    Workflow: {
      id: "3",
      uuid: "0b9a2ab5-4bbc-4d5e-8c4a-5c9e1c4bd1a1",
      name: "Workflow for trigger event-publish",
      description: "Blocks red events",
      timestamp: "1690446130",
      enabled: false,
      counter: "12",
      trigger_id: "event-publish",
      debug_enabled: false,
      data: {
        "1": trigger,
        "53": ifTag,
        "54": stop,
        _frames: { "f-1": { id: "f-1", text: "Frame", nodes: [53, 54], class: "" } },
      },
      listening_triggers: [],
    },
  };
}

Deno.test("importMispWorkflow() reads a MISP record", async (t) => {
  const record = realMispRecord();
  const expectedNodes = [
    {
      id: "1",
      module: "event-publish",
      kind: "trigger",
      params: {},
      next: [["53"]],
      layout: { x: -1115, y: 826.114553556415 },
    },
    {
      id: "53",
      module: "tag-if",
      kind: "logic",
      params: { scope: "event_attribute", condition: "in_or", tags: ["PAP:RED", "tlp:red"] },
      next: [["54"], []],
      layout: { x: -65, y: 6.052631578947368 },
    },
    {
      id: "54",
      module: "stop-execution",
      kind: "action",
      params: {},
      next: [],
      layout: { x: 406.05263157894734, y: 64 },
    },
  ];
  await t.step("with the Workflow wrapper", () => {
    const workflow = importMispWorkflow(record, catalog);
    assert.equal(workflow.name, "workflow-for-trigger-event-publish");
    assert.equal(workflow.description, "Blocks red events");
    assert.equal(workflow.trigger, "event-publish");
    assert.equal(workflow.enabled, false);
    assert.equal(workflow.order, 100);
    assert.equal(workflow.on_timeout, "block");
    assert.deepEqual(workflow.nodes, expectedNodes);
  });
  await t.step("without the wrapper and with data as a JSON string", () => {
    const inner = structuredClone(record.Workflow as Record<string, unknown>);
    inner.data = JSON.stringify(inner.data);
    assert.deepEqual(importMispWorkflow(inner, catalog).nodes, expectedNodes);
  });
  await t.step("a bare graph takes the trigger and name from the trigger node", () => {
    const graph = (record.Workflow as Record<string, unknown>).data;
    const workflow = importMispWorkflow(graph);
    assert.equal(workflow.trigger, "event-publish");
    assert.equal(workflow.name, "workflow-for-trigger-event-publish");
    assert.equal(workflow.description, "");
    assert.equal(workflow.enabled, true);
    assert.deepEqual(workflow.nodes, expectedNodes);
  });
  await t.step("the trigger node comes first whatever its key", () => {
    const graph = structuredClone((record.Workflow as { data: unknown }).data) as Record<
      string,
      { id: number; inputs: { input_1: { connections: unknown[] } } }
    >;
    const trigger = graph["1"];
    const ifTag = graph["53"];
    assert.ok(trigger && ifTag);
    graph["99"] = { ...trigger, id: 99 };
    delete graph["1"];
    ifTag.inputs.input_1.connections = [{ node: "99", input: "output_1" }];
    const workflow = importMispWorkflow(graph);
    assert.deepEqual(workflow.nodes.map((node) => node.id), ["99", "53", "54"]);
  });
  await t.step("a non-blocking trigger gets on_timeout allow", () => {
    const changed = structuredClone(record) as {
      Workflow: { trigger_id: string; data: Record<string, { data: { id: string } }> };
    };
    changed.Workflow.trigger_id = "event-after-save";
    const trigger = changed.Workflow.data["1"];
    assert.ok(trigger);
    trigger.data.id = "event-after-save";
    assert.equal(importMispWorkflow(changed, catalog).on_timeout, "allow");
  });
});

Deno.test("importMispWorkflow() keeps filters, labels and connection order", () => {
  const workflow = importMispWorkflow({
    "1": {
      id: 1,
      data: { id: "event-publish", module_type: "trigger", indexed_params: [] },
      outputs: { output_1: { connections: [{ node: 7, output: "input_1" }] } },
    },
    "7": {
      id: 7,
      name: "Fan out",
      data: {
        id: "concurrent-task",
        module_type: "logic",
        name: "Concurrent Task",
        indexed_params: [],
        saved_filters: { selector: "", value: "", operator: "", path: "" },
      },
      outputs: {
        output_1: {
          connections: [
            { node: "9", output: "input_1" },
            { node: "8", output: "input_1" },
          ],
        },
      },
    },
    "8": {
      id: 8,
      name: "Tag operation",
      data: {
        id: "tag_operation",
        module_type: "action",
        name: "Tag operation",
        indexed_params: { tags: ["x"] },
        saved_filters: { selector: "Event.Tag.{n}", value: "a", operator: "in", path: "name" },
      },
      outputs: { output_1: { connections: [] } },
    },
    "9": {
      id: 9,
      data: { id: "push-zmq", module_type: "action" },
      outputs: { output_2: { connections: [{ node: "8", output: "input_1" }] } },
    },
  });
  assert.equal(workflow.nodes[1]?.label, "Fan out");
  assert.equal(workflow.nodes[1]?.filters, undefined);
  assert.deepEqual(workflow.nodes[1]?.next, [["9", "8"]]);
  assert.equal(workflow.nodes[2]?.label, undefined);
  assert.deepEqual(workflow.nodes[2]?.filters, {
    selector: "Event.Tag.{n}",
    value: "a",
    operator: "in",
    path: "name",
  });
  assert.deepEqual(workflow.nodes[3]?.next, [[], ["8"]]);
  assert.equal(workflow.nodes[3]?.layout, undefined);
});

Deno.test("importMispWorkflow() refuses what is not a MISP workflow", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ["a list", [], /^Expected a MISP workflow object, got a list$/],
    [
      "data that is not a graph",
      { Workflow: { data: 3 } },
      /^Field "data": expected the workflow graph object/,
    ],
    ["data that is bad JSON", { Workflow: { data: "{" } }, /^Field "data": invalid JSON string/],
    [
      "a node without module id",
      { "1": { data: { module_type: "trigger" } } },
      /^Node "1", field "data.id": expected a module id$/,
    ],
    [
      "a node with a bad module type",
      { "1": { data: { id: "x", module_type: "filter" } } },
      /^Node "1", field "data.module_type": expected "trigger", "logic" or "action", got "filter"$/,
    ],
    [
      "params as a non-empty list",
      { "1": { data: { id: "event-publish", module_type: "trigger", indexed_params: ["a"] } } },
      /field "data.indexed_params": expected an object of param values, got a list/,
    ],
    [
      "a bad output name",
      { "1": { data: { id: "event-publish", module_type: "trigger" }, outputs: { out: {} } } },
      /field "outputs.out": unknown output name "out"/,
    ],
    [
      "no trigger at all",
      { "2": { data: { id: "webhook", module_type: "action" } } },
      /neither a "trigger_id" nor a trigger node/,
    ],
  ];
  for (const [name, json, message] of cases) {
    await t.step(name, () => {
      assert.throws(() => importMispWorkflow(json), (error: unknown) => {
        assert.ok(error instanceof WorkflowSyntaxError);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

Deno.test("toWorkflowName() makes a Flowgate name of any title", () => {
  assert.equal(
    toWorkflowName("Workflow for trigger event-publish"),
    "workflow-for-trigger-event-publish",
  );
  assert.equal(toWorkflowName("PAP:RED and tlp:red Blocking"), "pap-red-and-tlp-red-blocking");
  assert.equal(toWorkflowName("  --Ünïcode!!"), "n-code");
  assert.equal(toWorkflowName("!!!"), "workflow");
});

Deno.test("assignMispIds() makes the trigger 1, keeps numeric ids and numbers the rest", () => {
  const node = (id: string, kind: "trigger" | "action" = "action") => ({
    id,
    module: kind === "trigger" ? "event-publish" : "push-zmq",
    kind,
    params: {},
    next: [],
  });
  const workflow: Workflow = {
    name: "ids",
    description: "",
    trigger: "event-publish",
    enabled: true,
    order: 100,
    on_timeout: "block",
    nodes: [node("trigger", "trigger"), node("b"), node("1"), node("40"), node("a"), node("007")],
  };
  assert.deepEqual(
    [...assignMispIds(workflow)],
    [["trigger", 1], ["40", 40], ["b", 41], ["1", 42], ["a", 43], ["007", 44]],
  );
});

Deno.test("persistParams() writes defaults like MISP's editor but keeps explicit falsy values", () => {
  const declared = catalog.describe("webhook")?.params ?? [];
  assert.deepEqual(
    persistParams({ url: "https://x", payload: "", extra: 0, content_type: null }, declared),
    {
      url: "https://x",
      content_type: "json",
      request_method: "post",
      self_signed: "deny",
      payload: "",
      headers: "",
      extra: 0,
    },
  );
});

const EXAMPLE = Deno.readTextFileSync(
  new URL("../fixtures/workflows/block_tlp_red.yaml", import.meta.url),
).replace("next: done", "next: stop");

Deno.test("exportMispWorkflow() produces the record MISP's editor loads", () => {
  const workflow = parseWorkflowYaml(EXAMPLE, { catalog });
  const exported = exportMispWorkflow(workflow, catalog);
  const { data, ...record } = exported.Workflow;
  assert.deepEqual(record, {
    name: "block-tlp-red-publication",
    description: "Block publication of tlp:red events",
    trigger_id: "event-publish",
    enabled: true,
  });
  assert.deepEqual(Object.keys(data), ["1", "2", "3", "4", "_frames"]);
  const trigger = data["1"] as DrawflowNode;
  assert.equal(trigger.id, 1);
  assert.equal(trigger.name, "Event Publish");
  assert.equal(trigger.class, "block-type-trigger");
  assert.deepEqual(trigger.inputs, []);
  assert.deepEqual(trigger.outputs, {
    output_1: { connections: [{ node: "2", output: "input_1" }] },
  });
  assert.equal(trigger.data.id, "event-publish");
  assert.equal(trigger.data.module_type, "trigger");
  assert.equal(trigger.data.blocking, true);
  assert.equal(trigger.data.misp_core_format, true);
  assert.equal(trigger.data.scope, "event");
  assert.equal(trigger.data.html_template, "trigger");
  assert.deepEqual(trigger.data.indexed_params, []);
  assert.equal(trigger.data.params, undefined);
  assert.deepEqual([trigger.pos_x, trigger.pos_y], [-200, 0]);

  assert.deepEqual(data["2"], {
    id: 2,
    name: "IF :: Tag",
    data: {
      id: "tag-if",
      module_type: "logic",
      name: "IF :: Tag",
      indexed_params: { scope: "event", condition: "in_or", tags: ["tlp:red"], clusters: "" },
      saved_filters: { selector: "", value: "", operator: "", path: "" },
      multiple_output_connection: false,
      module_version: "0.4",
    },
    class: "block-type-if block-type-logic expect-misp-core-format",
    typenode: false,
    inputs: { input_1: { connections: [{ node: "1", input: "output_1" }] } },
    outputs: {
      output_1: { connections: [{ node: "3", output: "input_1" }] },
      output_2: { connections: [{ node: "4", output: "input_1" }] },
    },
    pos_x: 200,
    pos_y: 0,
  });
  const stop = data["3"] as DrawflowNode;
  assert.equal(stop.class, "block-type-default");
  assert.deepEqual(stop.outputs, []);
  assert.deepEqual(stop.inputs, {
    input_1: {
      connections: [{ node: "2", input: "output_1" }, { node: "4", input: "output_1" }],
    },
  });
  assert.deepEqual(stop.data.indexed_params, {
    message: "Publication of {{ Event.info }} blocked",
  });
  const notify = data["4"] as DrawflowNode;
  assert.deepEqual(notify.data.saved_filters, {
    selector: "Event._AttributeFlattened.{n}",
    value: "ip-dst",
    operator: "equals",
    path: "type",
  });
  assert.equal((notify.data.indexed_params as Record<string, unknown>).content_type, "json");
  assert.deepEqual(data._frames, {});
});

Deno.test("exportMispWorkflow() sets classes as MISP's editor does", () => {
  const workflow = parseWorkflowYaml(
    `name: classes
trigger: event-publish
start: c
nodes:
  c: { module: concurrent-task, next: [f] }
  f: { module: generic-filter-data, next: a }
  a: { module: attach-enrichment }
`,
    { catalog },
  );
  const data = exportMispWorkflow(workflow, catalog).Workflow.data as Record<string, DrawflowNode>;
  assert.equal(data["2"]?.class, "block-type-concurrent block-type-logic");
  assert.equal(data["2"]?.data.multiple_output_connection, true);
  assert.equal(data["3"]?.class, "block-type-default block-type-logic");
  assert.equal(data["4"]?.class, "block-type-default expect-misp-core-format");
  assert.deepEqual(
    [1, 2, 3, 4].map((id) => [data[String(id)]?.pos_x, data[String(id)]?.pos_y]),
    [[0, 0], [400, 0], [800, 0], [1_200, 0]],
  );
});

Deno.test("exportMispWorkflow() refuses an edge to a missing node", () => {
  const workflow = parseWorkflowYaml(EXAMPLE.replace("next: stop", "next: done"), { catalog });
  assert.throws(() => exportMispWorkflow(workflow, catalog), {
    name: "RangeError",
    message:
      'Cannot export workflow "block-tlp-red-publication": node "notify" has an edge to missing node "done"',
  });
});

Deno.test("exportMispWorkflow() refuses duplicate node ids", () => {
  const workflow = parseWorkflowYaml(EXAMPLE, { catalog });
  workflow.nodes.push({ id: "stop", module: "push-zmq", kind: "action", params: {}, next: [] });
  assert.throws(() => exportMispWorkflow(workflow, catalog), {
    name: "RangeError",
    message: 'Cannot export workflow "block-tlp-red-publication": duplicate node id "stop"',
  });
});

Deno.test("exportMispWorkflow() output loads back through the importer unchanged", () => {
  const workflow = importMispWorkflow(realMispRecord(), catalog);
  const exported = JSON.parse(JSON.stringify(exportMispWorkflow(workflow, catalog)));
  const again = importMispWorkflow(exported, catalog);
  assert.deepEqual(canonicalWorkflow(again, catalog), canonicalWorkflow(workflow, catalog));
  assert.deepEqual(exportMispWorkflow(again, catalog), exported);
});

function jsonClone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

function mispIdsOf(workflow: Workflow): (id: string) => string {
  const ids = assignMispIds(workflow);
  return (id) => String(ids.get(id));
}

Deno.test("YAML → MISP JSON → YAML keeps modules, params, filters and edge order (property)", () => {
  fc.assert(
    fc.property(workflowArbitrary(TEST_DESCRIPTORS), (original) => {
      const parsed = parseWorkflowYaml(stringifyWorkflowYaml(original, catalog), { catalog });
      assert.deepEqual(canonicalWorkflow(parsed, catalog), canonicalWorkflow(original, catalog));
      assert.equal(parsed.name, original.name);
      assert.equal(parsed.description, original.description);
      assert.equal(parsed.enabled, original.enabled);
      assert.equal(parsed.order, original.order);
      assert.equal(parsed.on_timeout, original.on_timeout);

      const imported = importMispWorkflow(jsonClone(exportMispWorkflow(parsed, catalog)), catalog);
      assert.deepEqual(
        canonicalWorkflow(imported, catalog),
        canonicalWorkflow(parsed, catalog, mispIdsOf(parsed)),
      );
      assert.equal(imported.name, original.name);
      assert.equal(imported.description, original.description);
      assert.equal(imported.enabled, original.enabled);

      const back = parseWorkflowYaml(stringifyWorkflowYaml(imported, catalog), { catalog });
      assert.deepEqual(canonicalWorkflow(back, catalog), canonicalWorkflow(imported, catalog));
    }),
    { numRuns: 150 },
  );
});

Deno.test("MISP JSON → YAML → MISP JSON keeps the graph (property)", () => {
  fc.assert(
    fc.property(workflowArbitrary(TEST_DESCRIPTORS), (generated) => {
      const first = jsonClone(exportMispWorkflow(generated, catalog));
      const imported = importMispWorkflow(first, catalog);
      assert.deepEqual(exportMispWorkflow(imported, catalog), first, "export is a fixed point");

      const viaYaml = parseWorkflowYaml(stringifyWorkflowYaml(imported, catalog), { catalog });
      const second = jsonClone(exportMispWorkflow(viaYaml, catalog));
      assert.deepEqual(
        canonicalWorkflow(importMispWorkflow(second, catalog), catalog),
        canonicalWorkflow(imported, catalog),
      );
      const withoutTriggerPosition = (exported: typeof first) => {
        const data = structuredClone(exported.Workflow.data) as Record<string, DrawflowNode>;
        const { pos_x: _x, pos_y: _y, ...trigger } = data["1"] as DrawflowNode;
        return { ...exported.Workflow, data: { ...data, "1": trigger } };
      };
      assert.deepEqual(withoutTriggerPosition(second), withoutTriggerPosition(first));
    }),
    { numRuns: 150 },
  );
});
