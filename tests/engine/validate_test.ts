import assert from "node:assert/strict";
import fc from "fast-check";
import type { Workflow, WorkflowNode } from "../../engine/model.ts";
import {
  assertValidWorkflow,
  validateWorkflow,
  type ValidationProblem,
  WorkflowValidationError,
} from "../../engine/validate.ts";
import { parseWorkflowYaml } from "../../engine/yaml_codec.ts";
import { createTestCatalog, TEST_DESCRIPTORS } from "../fixtures/test_catalog.ts";
import { workflowArbitrary } from "../fixtures/workflow_arbitrary.ts";

const catalog = createTestCatalog();

const VALID = `name: valid
trigger: event-publish
start: is-red
nodes:
  is-red:
    module: tag-if
    params: { scope: event, condition: in_or, tags: [tlp:red] }
    then: stop
    else: tag
  stop:
    module: stop-execution
  tag:
    module: tag_operation
    params: { scope: attribute, tags: [seen] }
    filters: { selector: "Event._AttributeFlattened.{n}", value: ip-dst, operator: equals, path: type }
`;

function workflowOf(yaml: string): Workflow {
  return parseWorkflowYaml(yaml, { catalog });
}

function mutate(change: (nodes: Map<string, WorkflowNode>, workflow: Workflow) => void): Workflow {
  const workflow = workflowOf(VALID);
  change(new Map(workflow.nodes.map((node) => [node.id, node])), workflow);
  return workflow;
}

function get(nodes: Map<string, WorkflowNode>, id: string): WorkflowNode {
  const node = nodes.get(id);
  assert.ok(node);
  return node;
}

function errorsOf(workflow: Workflow): ValidationProblem[] {
  return validateWorkflow(workflow, catalog).errors;
}

Deno.test("validateWorkflow() accepts a valid workflow", () => {
  assert.deepEqual(validateWorkflow(workflowOf(VALID), catalog), { errors: [], warnings: [] });
});

Deno.test("validateWorkflow() applies MISP's save rules with MISP's messages", async (t) => {
  await t.step("a cycle", () => {
    const workflow = mutate((nodes) => {
      get(nodes, "tag").next = [["is-red"]];
    });
    assert.deepEqual(errorsOf(workflow), [{
      code: "cycle",
      message: "Cannot save a workflow containing a cycle",
      node: "tag",
      field: "next",
    }]);
  });
  await t.step("no trigger", () => {
    const workflow = mutate((_, wf) => {
      wf.nodes = wf.nodes.slice(1);
    });
    const problems = errorsOf(workflow).filter((p) => p.code === "trigger-count");
    assert.deepEqual(problems, [{
      code: "trigger-count",
      message: "Cannot save a workflow containing no or more than one trigger",
    }]);
  });
  await t.step("two triggers", () => {
    const workflow = mutate((_, wf) => {
      wf.nodes.push({ id: "t2", module: "event-publish", kind: "trigger", params: {}, next: [[]] });
    });
    assert.deepEqual(errorsOf(workflow).map((p) => p.message), [
      "Cannot save a workflow containing no or more than one trigger",
    ]);
  });
  await t.step("two connections on one output", () => {
    const workflow = mutate((nodes) => {
      get(nodes, "is-red").next = [["stop", "tag"], []];
    });
    assert.deepEqual(errorsOf(workflow), [{
      code: "multiple-connections",
      message: "Cannot save a workflow having more than one connection per output",
      node: "is-red",
      field: "then",
    }]);
  });
  await t.step("concurrent-task may fan out", () => {
    const workflow = workflowOf(`name: fan
trigger: event-publish
start: c
nodes:
  c: { module: concurrent-task, next: [a, b] }
  a: { module: push-zmq }
  b: { module: push-zmq }
`);
    assert.deepEqual(errorsOf(workflow), []);
  });
});

Deno.test("validateWorkflow() names the node and the field of every other error", async (t) => {
  const cases: [
    string,
    (nodes: Map<string, WorkflowNode>, wf: Workflow) => void,
    ValidationProblem,
  ][] = [
    [
      "an unknown module",
      (nodes) => {
        get(nodes, "stop").module = "stop-exec";
      },
      {
        code: "unknown-module",
        message: 'Node "stop" (stop-exec), field "module": unknown module "stop-exec"',
        node: "stop",
        field: "module",
      },
    ],
    [
      "a node kind that does not match the module",
      (nodes) => {
        get(nodes, "stop").kind = "logic";
      },
      {
        code: "kind-mismatch",
        message:
          'Node "stop" (stop-execution), field "module": module "stop-execution" is an action module, but the node is a logic node',
        node: "stop",
        field: "module",
      },
    ],
    [
      "an unknown param",
      (nodes) => {
        get(nodes, "tag").params.colour = "red";
      },
      {
        code: "unknown-param",
        message:
          'Node "tag" (tag_operation), field "params.colour": unknown param "colour" (known: "scope", "action", "locality", "tags", "relationship_type")',
        node: "tag",
        field: "params.colour",
      },
    ],
    [
      "an input given an object",
      (nodes) => {
        get(nodes, "stop").params.message = { text: "x" };
      },
      {
        code: "invalid-param",
        message:
          'Node "stop" (stop-execution), field "params.message": expected a string, got {"text":"x"}',
        node: "stop",
        field: "params.message",
      },
    ],
    [
      "a required param without value",
      (nodes, wf) => {
        get(nodes, "tag").next = [["hook"]];
        wf.nodes.push({
          id: "hook",
          module: "webhook",
          kind: "action",
          params: { url: "" },
          next: [[]],
        });
      },
      {
        code: "missing-param",
        message: 'Node "hook" (webhook), field "params.url": required param "url" has no value',
        node: "hook",
        field: "params.url",
      },
    ],
    [
      "an edge on an output the module does not have",
      (nodes) => {
        get(nodes, "stop").next = [["tag"]];
      },
      {
        code: "unknown-output",
        message:
          'Node "stop" (stop-execution), field "next": edge to "tag" on output 1, but module "stop-execution" has 0 outputs',
        node: "stop",
        field: "next",
      },
    ],
    [
      "a dangling edge",
      (nodes) => {
        get(nodes, "tag").next = [["done"]];
      },
      {
        code: "dangling-edge",
        message: 'Node "tag" (tag_operation), field "next": edge to missing node "done"',
        node: "tag",
        field: "next",
      },
    ],
    [
      "a duplicate node id",
      (_, wf) => {
        wf.nodes.push({ id: "stop", module: "push-zmq", kind: "action", params: {}, next: [[]] });
      },
      {
        code: "duplicate-node",
        message: 'Node "stop" (push-zmq), field "id": duplicate node id "stop"',
        node: "stop",
        field: "id",
      },
    ],
    [
      "filters on a module without filter support",
      (nodes) => {
        get(nodes, "stop").filters = {
          selector: "Event",
          value: "x",
          operator: "in",
          path: "info",
        };
      },
      {
        code: "filters-unsupported",
        message:
          'Node "stop" (stop-execution), field "filters": module "stop-execution" does not support filters',
        node: "stop",
        field: "filters",
      },
    ],
    [
      "incomplete filters",
      (nodes) => {
        const tag = get(nodes, "tag");
        tag.filters = {
          selector: "Event._AttributeFlattened.{n}",
          value: "x",
          operator: "",
          path: "type",
        };
      },
      {
        code: "filters-incomplete",
        message:
          'Node "tag" (tag_operation), field "filters.operator": filters with a selector need a operator',
        node: "tag",
        field: "filters.operator",
      },
    ],
    [
      "a trigger node that does not match the workflow's trigger",
      (nodes, wf) => {
        wf.trigger = "enrichment-before-query";
        void nodes;
      },
      {
        code: "trigger-mismatch",
        message:
          'Node "trigger" (event-publish), field "module": the trigger node is "event-publish" but the workflow\'s trigger is "enrichment-before-query"',
        node: "trigger",
        field: "module",
      },
    ],
  ];
  for (const [name, change, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(errorsOf(mutate(change)), [expected]);
    });
  }
  await t.step("an unknown trigger", () => {
    const workflow = mutate((nodes, wf) => {
      wf.trigger = "event-publsh";
      get(nodes, "trigger").module = "event-publsh";
    });
    assert.deepEqual(errorsOf(workflow), [
      {
        code: "unknown-trigger",
        message: 'Workflow "valid", field "trigger": unknown trigger "event-publsh"',
        field: "trigger",
      },
      {
        code: "unknown-module",
        message: 'Node "trigger" (event-publsh), field "module": unknown module "event-publsh"',
        node: "trigger",
        field: "module",
      },
    ]);
  });
});

Deno.test("validateWorkflow() warns on choices outside the options, as MISP saves and runs them", async (t) => {
  const cases: [string, (nodes: Map<string, WorkflowNode>, workflow: Workflow) => void, unknown][] =
    [
      [
        "a select value not among its options",
        (nodes) => {
          get(nodes, "is-red").params.scope = "evnt";
        },
        {
          code: "unknown-option",
          message:
            'Node "is-red" (tag-if), field "params.scope": "evnt" is not one of "event", "attribute", "event_attribute"; MISP saves it as it is and its module compares it as PHP does',
          node: "is-red",
          field: "params.scope",
        },
      ],
      [
        "a trigger param not among its options",
        (nodes, wf) => {
          wf.trigger = "tag-attached-after-save";
          const trigger = get(nodes, "trigger");
          trigger.module = "tag-attached-after-save";
          trigger.params = { scope: "everything" };
        },
        {
          code: "unknown-option",
          message:
            'Node "trigger" (tag-attached-after-save), field "params.scope": "everything" is not one of "event", "attribute", "any"; MISP saves it as it is and its module compares it as PHP does',
          node: "trigger",
          field: "params.scope",
        },
      ],
    ];
  for (const [name, change, expected] of cases) {
    await t.step(name, () => {
      const { errors, warnings } = validateWorkflow(mutate(change), catalog);
      assert.deepEqual(errors, []);
      assert.deepEqual(warnings.filter((problem) => problem.code === "unknown-option"), [expected]);
    });
  }
});

Deno.test("validateWorkflow() checks param types by widget", async (t) => {
  const withParams = (module: string, params: Record<string, unknown>) =>
    mutate((nodes, wf) => {
      get(nodes, "tag").next = [["x"]];
      const kind = catalog.describe(module)?.module_type ?? "action";
      wf.nodes.push({ id: "x", module, kind, params, next: [] });
    });
  const problems = (module: string, params: Record<string, unknown>) =>
    errorsOf(withParams(module, params)).map((problem) => problem.message.replace(/^.*?: /, ""));
  const paramWarnings = (module: string, params: Record<string, unknown>) =>
    validateWorkflow(withParams(module, params), catalog).warnings
      .filter((problem) => problem.field?.startsWith("params."))
      .map((problem) => problem.message.replace(/^.*?: /, ""));
  await t.step("select options as a map, a list or name/value pairs, compared as strings", () => {
    assert.deepEqual(problems("distribution-if", { distribution: 3, scope: "event" }), []);
    assert.deepEqual(problems("distribution-if", { distribution: "4" }), []);
    assert.deepEqual(problems("distribution-if", { distribution: 9 }), []);
    assert.deepEqual(paramWarnings("distribution-if", { distribution: 9 }), [
      '9 is not one of "0", "1", "2", "3", "4"; MISP saves it as it is and its module compares it as PHP does',
    ]);
    // Choices of the wrong shape too: only `strict_options` params (Flowgate's) refuse them.
    assert.deepEqual(problems("webhook", { url: "https://x", request_method: "patch" }), []);
    assert.deepEqual(paramWarnings("webhook", { url: "https://x", content_type: ["json"] }), [
      'expected a single value, got ["json"]; MISP saves it as it is and its module compares it as PHP does',
    ]);
  });
  await t.step("pickers with create-new accept new values, others must be lists", () => {
    assert.deepEqual(problems("send-mail", { recipients: ["soc@example.org"] }), []);
    assert.deepEqual(problems("generic-if", { value_list: "a" }), []);
    const { warnings } = validateWorkflow(withParams("generic-if", { value_list: "a" }), catalog);
    assert.deepEqual(warnings.map((warning) => warning.message), [
      'Node "x" (generic-if), field "params.value_list": expected a list of values, got "a"; MISP wraps a single value into a list',
    ]);
    assert.deepEqual(problems("tag-if", { tags: [["nested"]] }), []);
    assert.deepEqual(paramWarnings("tag-if", { tags: [["nested"]] }), [
      'expected plain values, got ["nested"]; MISP saves it as it is and its module compares it as PHP does',
    ]);
  });
  await t.step("inputs, textareas and hash paths take strings or numbers", () => {
    assert.deepEqual(problems("generic-if", { value: 5, hash_path: "Event.info" }), []);
    assert.deepEqual(problems("generic-if", { hash_path: true }), ["expected a string, got true"]);
  });
  await t.step("checkboxes take boolean-ish values", () => {
    assert.deepEqual(problems("splunk-hec-export", { url: "https://x", verify_tls: "1" }), []);
    assert.deepEqual(problems("splunk-hec-export", { url: "https://x", verify_tls: false }), []);
    assert.deepEqual(problems("splunk-hec-export", { url: "https://x", verify_tls: "maybe" }), []);
    assert.deepEqual(
      paramWarnings("splunk-hec-export", { url: "https://x", verify_tls: "maybe" }),
      [
        'expected true or false, got "maybe"; MISP saves it as it is and its module compares it as PHP does',
      ],
    );
  });
  await t.step("empty values count as unset", () => {
    assert.deepEqual(problems("tag-if", { clusters: "", tags: [] }), []);
  });
});

Deno.test("validateWorkflow() warns as MISP's editor does", async (t) => {
  await t.step("an unreachable node", () => {
    const workflow = mutate((_, wf) => {
      wf.nodes.push({ id: "lost", module: "push-zmq", kind: "action", params: {}, next: [[]] });
    });
    assert.deepEqual(validateWorkflow(workflow, catalog), {
      errors: [],
      warnings: [{
        code: "unreachable-node",
        message: 'Node "lost" (push-zmq), field "id": not reachable from the trigger',
        node: "lost",
        field: "id",
      }],
    });
  });
  await t.step("a blocking module in a non-blocking workflow", () => {
    const workflow = workflowOf(VALID.replace("event-publish", "event-after-save"));
    assert.deepEqual(validateWorkflow(workflow, catalog).warnings, [{
      code: "blocking-in-non-blocking-workflow",
      message:
        'Node "stop" (stop-execution), field "module": Blocking module might not work as intended: trigger "event-after-save" is not blocking',
      node: "stop",
      field: "module",
    }]);
  });
  await t.step("a blocking module after a concurrent task", () => {
    const workflow = workflowOf(`name: late-stop
trigger: event-publish
start: c
nodes:
  c: { module: concurrent-task, next: [z] }
  z: { module: push-zmq, next: stop }
  stop: { module: stop-execution }
`);
    assert.deepEqual(validateWorkflow(workflow, catalog).warnings, [{
      code: "blocking-after-concurrent-task",
      message:
        'Node "stop" (stop-execution), field "module": This path leads to a blocking node from a non-blocking context: it runs after a concurrent task',
      node: "stop",
      field: "module",
    }]);
  });
  await t.step("a core-format module under a trigger without core format", () => {
    const workflow = workflowOf(VALID.replace("event-publish", "user-before-save"));
    assert.deepEqual(validateWorkflow(workflow, catalog).warnings.map((w) => [w.code, w.node]), [
      ["core-format-mismatch", "is-red"],
      ["core-format-mismatch", "tag"],
    ]);
    assert.equal(
      validateWorkflow(workflow, catalog).warnings[0]?.message,
      'Node "is-red" (tag-if), field "module": Potential data format issue: module "tag-if" expects MISP core format, trigger "user-before-save" does not provide it',
    );
  });
});

Deno.test("assertValidWorkflow() throws every error and returns warnings", () => {
  const broken = mutate((nodes) => {
    get(nodes, "stop").module = "stop-exec";
    get(nodes, "tag").next = [["is-red"]];
  });
  assert.throws(() => assertValidWorkflow(broken, catalog), (error: unknown) => {
    assert.ok(error instanceof WorkflowValidationError);
    assert.ok(error instanceof SyntaxError);
    assert.equal(error.name, "WorkflowValidationError");
    assert.equal(
      error.message,
      'Cannot save workflow "valid": Node "stop" (stop-exec), field "module": unknown module "stop-exec"; ' +
        "Cannot save a workflow containing a cycle",
    );
    assert.deepEqual(error.errors.map((problem) => problem.code), ["unknown-module", "cycle"]);
    return true;
  });
  const lost = mutate((_, wf) => {
    wf.nodes.push({ id: "lost", module: "push-zmq", kind: "action", params: {}, next: [[]] });
  });
  assert.deepEqual(assertValidWorkflow(lost, catalog).map((w) => w.code), ["unreachable-node"]);
});

Deno.test("validateWorkflow() finds no error in generated acyclic workflows but missing required params (property)", () => {
  fc.assert(
    fc.property(workflowArbitrary(TEST_DESCRIPTORS), (workflow) => {
      const { errors } = validateWorkflow(workflow, catalog);
      assert.deepEqual(errors.filter((problem) => problem.code !== "missing-param"), []);
      for (const problem of errors) {
        const node = workflow.nodes.find((candidate) => candidate.id === problem.node);
        const param = problem.field?.replace(/^params\./, "") ?? "";
        assert.ok(node && !node.params[param], `${problem.message} but the param is set`);
      }
    }),
    { numRuns: 200 },
  );
});
