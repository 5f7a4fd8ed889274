import assert from "node:assert/strict";
import {
  parseWorkflowYaml,
  stringifyWorkflowYaml,
  WorkflowSyntaxError,
  YAML_TRIGGER_NODE_ID,
} from "../../engine/yaml_codec.ts";
import type { Workflow } from "../../engine/model.ts";
import { createTestCatalog } from "../fixtures/test_catalog.ts";

const catalog = createTestCatalog();
const EXAMPLE = Deno.readTextFileSync(
  new URL("../fixtures/workflows/block_tlp_red.yaml", import.meta.url),
);

function syntaxError(text: string): WorkflowSyntaxError {
  try {
    parseWorkflowYaml(text, { catalog });
  } catch (error) {
    assert.ok(error instanceof WorkflowSyntaxError, `expected WorkflowSyntaxError, got ${error}`);
    assert.ok(error instanceof SyntaxError);
    assert.equal(error.name, "WorkflowSyntaxError");
    return error;
  }
  assert.fail("expected a WorkflowSyntaxError");
}

const MINIMAL = `name: minimal
trigger: event-publish
start: a
nodes:
  a:
    module: webhook
    params: { url: "https://x.example" }
`;

Deno.test("parseWorkflowYaml() reads the authoring example into the shared model", () => {
  const workflow = parseWorkflowYaml(EXAMPLE, { catalog });
  assert.equal(workflow.name, "block-tlp-red-publication");
  assert.equal(workflow.description, "Block publication of tlp:red events");
  assert.equal(workflow.trigger, "event-publish");
  assert.equal(workflow.enabled, true);
  assert.equal(workflow.order, 100);
  assert.equal(workflow.on_timeout, "block");
  assert.deepEqual(workflow.nodes.map((node) => node.id), [
    YAML_TRIGGER_NODE_ID,
    "is-red",
    "stop",
    "notify",
  ]);
  assert.deepEqual(workflow.nodes[0], {
    id: "trigger",
    module: "event-publish",
    kind: "trigger",
    params: {},
    next: [["is-red"]],
  });
  assert.deepEqual(workflow.nodes[1], {
    id: "is-red",
    module: "tag-if",
    kind: "logic",
    label: "IF :: Tag",
    layout: { x: 200, y: 0 },
    params: { scope: "event", condition: "in_or", tags: ["tlp:red"] },
    next: [["stop"], ["notify"]],
  });
  assert.deepEqual(workflow.nodes[2], {
    id: "stop",
    module: "stop-execution",
    kind: "action",
    params: { message: "Publication of {{ Event.info }} blocked" },
    next: [],
  });
  assert.deepEqual(workflow.nodes[3], {
    id: "notify",
    module: "webhook",
    kind: "action",
    params: { url: "https://hooks.example.org/x" },
    filters: {
      selector: "Event._AttributeFlattened.{n}",
      value: "ip-dst",
      operator: "equals",
      path: "type",
    },
    next: [["done"]],
  });
});

Deno.test("parseWorkflowYaml() applies defaults", async (t) => {
  await t.step("enabled, order and description", () => {
    const workflow = parseWorkflowYaml(MINIMAL, { catalog });
    assert.equal(workflow.enabled, true);
    assert.equal(workflow.order, 100);
    assert.equal(workflow.description, "");
  });
  await t.step("on_timeout is block on a blocking trigger", () => {
    assert.equal(parseWorkflowYaml(MINIMAL, { catalog }).on_timeout, "block");
  });
  await t.step("on_timeout is allow on a non-blocking trigger", () => {
    const text = MINIMAL.replace("event-publish", "event-after-save");
    assert.equal(parseWorkflowYaml(text, { catalog }).on_timeout, "allow");
  });
  await t.step("without a catalog, on_timeout is block and kinds are guessed from edges", () => {
    const workflow = parseWorkflowYaml(EXAMPLE);
    assert.equal(workflow.on_timeout, "block");
    assert.deepEqual(workflow.nodes.map((node) => node.kind), [
      "trigger",
      "logic",
      "action",
      "action",
    ]);
  });
  await t.step("a catalog pads next to the module's outputs", () => {
    const text = MINIMAL.replace("module: webhook", "module: tag-if").replace(
      '    params: { url: "https://x.example" }\n',
      "    then: b\n  b:\n    module: stop-execution\n",
    );
    const workflow = parseWorkflowYaml(text, { catalog });
    assert.deepEqual(workflow.nodes[1]?.next, [["b"], []]);
    assert.deepEqual(workflow.nodes[2]?.next, []);
  });
});

Deno.test("parseWorkflowYaml() reads edges as strings or lists, in order", () => {
  const workflow = parseWorkflowYaml(
    `name: fan-out
trigger: event-after-save
trigger_params: { scope: event }
start: [c]
nodes:
  c:
    module: concurrent-task
    next: [z, 1, a]
  z: { module: push-zmq }
  1: { module: push-zmq }
  a: { module: push-zmq }
`,
    { catalog },
  );
  assert.deepEqual(workflow.nodes[0]?.params, { scope: "event" });
  assert.deepEqual(workflow.nodes[1]?.next, [["z", "1", "a"]]);
  assert.deepEqual(workflow.nodes.map((node) => node.id), ["trigger", "c", "z", "1", "a"]);
});

Deno.test("parseWorkflowYaml() reports errors with line, column, node and field", async (t) => {
  await t.step("broken YAML", () => {
    const error = syntaxError("name: x\ntrigger: event-publish\nnodes:\n  a: { module: webhook\n");
    assert.equal(error.line, 5);
    assert.equal(error.column, 1);
    assert.match(error.message, /^Invalid YAML: .+ \(line 5, column 1\)$/);
  });
  await t.step("a misspelt node key", () => {
    const error = syntaxError(EXAMPLE.replace("    then: stop", "    thne: stop"));
    assert.equal(error.line, 16);
    assert.equal(error.column, 5);
    assert.equal(error.node, "is-red");
    assert.equal(error.field, "thne");
    assert.equal(
      error.message,
      'Node "is-red", field "thne": unknown key "thne", expected one of module, label, position, ' +
        "params, filters, then, else, next (line 16, column 5)",
    );
  });
  await t.step("a misspelt top-level key", () => {
    const error = syntaxError(MINIMAL.replace("trigger:", "triger:"));
    assert.equal(error.line, 2);
    assert.equal(error.column, 1);
    assert.equal(error.field, "triger");
    assert.equal(error.node, undefined);
    assert.match(error.message, /^Field "triger": unknown key "triger"/);
  });
  await t.step("a misspelt filter key", () => {
    const error = syntaxError(EXAMPLE.replace("operator: equals", "operater: equals"));
    assert.equal(error.line, 23);
    assert.equal(error.node, "notify");
    assert.equal(error.field, "filters.operater");
  });
  await t.step("a missing module", () => {
    const error = syntaxError(MINIMAL.replace("    module: webhook\n", ""));
    assert.equal(error.node, "a");
    assert.equal(error.field, "module");
    assert.equal(error.line, 5);
  });
  await t.step("a missing name", () => {
    const error = syntaxError(MINIMAL.replace("name: minimal\n", ""));
    assert.equal(error.field, "name");
    assert.equal(error.message, 'Field "name": missing required key "name" (line 1, column 1)');
  });
  await t.step("an invalid workflow name", () => {
    const error = syntaxError(MINIMAL.replace("name: minimal", "name: Not Valid"));
    assert.equal(error.field, "name");
    assert.equal(error.column, 7);
  });
  await t.step("an invalid node id", () => {
    const error = syntaxError(
      MINIMAL.replace("  a:\n", "  -bad:\n").replace("start: a", "start: x"),
    );
    assert.equal(error.field, "nodes");
    assert.match(error.message, /invalid node id "-bad"/);
  });
  await t.step("an invalid edge target", () => {
    const error = syntaxError(EXAMPLE.replace("then: stop", "then: [stop, {x: 1}]"));
    assert.equal(error.node, "is-red");
    assert.equal(error.field, "then");
    assert.equal(error.line, 16);
    assert.equal(error.column, 18);
  });
  await t.step("the reserved trigger id", () => {
    const error = syntaxError(MINIMAL.replace("  a:\n", "  trigger:\n"));
    assert.equal(error.node, "trigger");
    assert.match(error.message, /reserved for the trigger node/);
  });
  await t.step("a duplicate node id", () => {
    const error = syntaxError(MINIMAL + "  a:\n    module: push-zmq\n");
    assert.equal(error.line, 8);
    assert.match(error.message, /unique/);
  });
  await t.step("a key written twice deep in params, in a list item or in a flow map", () => {
    const nested = syntaxError(MINIMAL.replace(
      '    params: { url: "https://x.example" }\n',
      '    params:\n      url: "https://x.example"\n      headers:\n        - { a: 1, a: 2 }\n',
    ));
    assert.equal(nested.line, 10);
    assert.match(nested.message, /Map keys must be unique \(line 10, column 19\)/);
    const flow = syntaxError(MINIMAL.replace('{ url: "https://x.example" }', "{ url: a, url: b }"));
    assert.equal(flow.line, 7);
    assert.equal(flow.column, 23);
  });
  await t.step("next mixed with then", () => {
    const error = syntaxError(EXAMPLE.replace("    else: notify", "    next: notify"));
    assert.equal(error.node, "is-red");
    assert.equal(error.field, "next");
  });
  await t.step("a bad position", () => {
    const error = syntaxError(EXAMPLE.replace("[200, 0]", "[200]"));
    assert.equal(error.node, "is-red");
    assert.equal(error.field, "position");
    assert.equal(error.line, 14);
  });
  await t.step("wrong scalar types", () => {
    assert.equal(syntaxError(MINIMAL + "enabled: maybe\n").field, "enabled");
    assert.equal(syntaxError(MINIMAL + "order: 1.5\n").field, "order");
    assert.equal(syntaxError(MINIMAL + "on_timeout: later\n").field, "on_timeout");
    assert.equal(syntaxError(MINIMAL + "trigger_params: [a]\n").field, "trigger_params");
    assert.equal(
      syntaxError(MINIMAL.replace("module: webhook", "module: [webhook]")).field,
      "module",
    );
  });
  await t.step("a node that is not a mapping", () => {
    const error = syntaxError(MINIMAL + "  b:\n");
    assert.equal(error.message, 'Node "b": expected a mapping, got null (line 8, column 5)');
    assert.equal(error.field, undefined);
  });
  await t.step("a document that is not a mapping", () => {
    assert.match(syntaxError("- a\n- b\n").message, /expected a workflow mapping, got a list/);
  });
});

Deno.test("stringifyWorkflowYaml() writes the authoring key order and parses back", () => {
  const workflow = parseWorkflowYaml(EXAMPLE, { catalog });
  const text = stringifyWorkflowYaml(workflow, catalog);
  assert.equal(
    text,
    `name: block-tlp-red-publication
description: Block publication of tlp:red events
trigger: event-publish
enabled: true
order: 100
on_timeout: block
start: is-red
nodes:
  is-red:
    module: tag-if
    position: [ 200, 0 ]
    params:
      scope: event
      condition: in_or
      tags:
        - tlp:red
    then: stop
    else: notify
  stop:
    module: stop-execution
    params:
      message: Publication of {{ Event.info }} blocked
  notify:
    module: webhook
    params:
      url: https://hooks.example.org/x
    filters:
      selector: Event._AttributeFlattened.{n}
      value: ip-dst
      operator: equals
      path: type
    next: done
`,
  );
  const back = parseWorkflowYaml(text, { catalog });
  assert.deepEqual(back, { ...workflow, nodes: workflow.nodes.map(withoutDefaultLabel) });
});

function withoutDefaultLabel(node: Workflow["nodes"][number]): Workflow["nodes"][number] {
  if (node.label !== catalog.describe(node.module)?.name) return node;
  const { label: _label, ...rest } = node;
  return rest;
}

Deno.test("stringifyWorkflowYaml() keeps what YAML must quote and custom labels", () => {
  const workflow: Workflow = {
    name: "quoted",
    description: "multi\nline",
    trigger: "tag-attached-after-save",
    enabled: false,
    order: -3,
    on_timeout: "allow",
    nodes: [
      {
        id: "5",
        module: "tag-attached-after-save",
        kind: "trigger",
        params: { tag: "tlp:red" },
        next: [["53"]],
      },
      {
        id: "53",
        module: "concurrent-task",
        kind: "logic",
        label: "Fan: out",
        params: {},
        next: [["54"]],
      },
      {
        id: "54",
        module: "webhook",
        kind: "action",
        params: { url: "yes", payload: "{{ Event | tojson }}\n", headers: "12" },
        next: [[]],
      },
    ],
  };
  const text = stringifyWorkflowYaml(workflow, catalog);
  assert.match(text, /next:\n {6}- "54"/);
  assert.match(text, /label: "Fan: out"/);
  const back = parseWorkflowYaml(text, { catalog });
  assert.equal(back.description, "multi\nline");
  assert.equal(back.enabled, false);
  assert.equal(back.order, -3);
  assert.deepEqual(back.nodes[0]?.params, { tag: "tlp:red" });
  assert.deepEqual(back.nodes[1], { ...workflow.nodes[1], next: [["54"]] });
  assert.deepEqual(back.nodes[2]?.params, workflow.nodes[2]?.params);
});

Deno.test("stringifyWorkflowYaml() refuses what YAML cannot express", async (t) => {
  const base = parseWorkflowYaml(MINIMAL, { catalog });
  await t.step("edges on a third output", () => {
    const workflow = structuredClone(base);
    (workflow.nodes[1] as Workflow["nodes"][number]).next = [[], [], ["a"]];
    assert.throws(() => stringifyWorkflowYaml(workflow, catalog), {
      name: "RangeError",
      message: 'Cannot write node "a" as YAML: it has edges on output 3',
    });
  });
  await t.step("a workflow without trigger node", () => {
    const workflow = { ...base, nodes: base.nodes.slice(1) };
    assert.throws(() => stringifyWorkflowYaml(workflow, catalog), {
      name: "RangeError",
      message: 'Cannot write workflow "minimal" as YAML: it has no trigger node',
    });
  });
});

Deno.test("parseWorkflowYaml() resolves anchors and aliases in params", () => {
  const workflow = parseWorkflowYaml(
    `name: aliases
trigger: event-publish
start: a
nodes:
  a:
    module: tag-if
    params: { tags: &red [tlp:red, PAP:RED] }
    then: b
  b:
    module: tag_operation
    params: { tags: *red }
`,
    { catalog },
  );
  assert.deepEqual(workflow.nodes[2]?.params, { tags: ["tlp:red", "PAP:RED"] });
});
