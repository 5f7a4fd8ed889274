import assert from "node:assert/strict";
import fc from "fast-check";
import { LAYOUT_COLUMN_WIDTH, LAYOUT_ROW_HEIGHT, layoutWorkflow } from "../../engine/layout.ts";
import type { Workflow } from "../../engine/model.ts";
import { parseWorkflowYaml } from "../../engine/yaml_codec.ts";
import { createTestCatalog, TEST_DESCRIPTORS } from "../fixtures/test_catalog.ts";
import { workflowArbitrary } from "../fixtures/workflow_arbitrary.ts";

const catalog = createTestCatalog();

function cells(workflow: Workflow): Record<string, [number, number]> {
  return Object.fromEntries(
    [...layoutWorkflow(workflow)].map(([id, place]) => [id, [place.column, place.row]]),
  );
}

Deno.test("layoutWorkflow() places a chain left to right from the trigger", () => {
  const workflow = parseWorkflowYaml(
    `name: chain
trigger: event-publish
start: a
nodes:
  a: { module: push-zmq, next: b }
  b: { module: push-zmq }
`,
    { catalog },
  );
  const placements = layoutWorkflow(workflow);
  assert.deepEqual(placements.get("trigger"), { x: 0, y: 0, column: 0, row: 0 });
  assert.deepEqual(placements.get("a"), { x: LAYOUT_COLUMN_WIDTH, y: 0, column: 1, row: 0 });
  assert.deepEqual(placements.get("b"), { x: 2 * LAYOUT_COLUMN_WIDTH, y: 0, column: 2, row: 0 });
});

Deno.test("layoutWorkflow() stacks then above else and puts joins after their longest path", () => {
  const workflow = parseWorkflowYaml(
    `name: branches
trigger: event-publish
start: if
nodes:
  if: { module: generic-if, then: yes, else: no }
  yes: { module: push-zmq, next: join }
  no: { module: push-zmq, next: more }
  more: { module: push-zmq, next: join }
  join: { module: push-zmq }
`,
    { catalog },
  );
  assert.deepEqual(cells(workflow), {
    trigger: [0, 0],
    if: [1, 0],
    yes: [2, 0],
    no: [2, 1],
    more: [3, 0],
    join: [4, 0],
  });
  assert.equal(layoutWorkflow(workflow).get("no")?.y, LAYOUT_ROW_HEIGHT);
});

Deno.test("layoutWorkflow() puts unreachable nodes below, from column 1", () => {
  const workflow = parseWorkflowYaml(
    `name: islands
trigger: event-publish
start: a
nodes:
  a: { module: push-zmq }
  fed: { module: push-zmq }
  root: { module: push-zmq, next: fed }
`,
    { catalog },
  );
  assert.deepEqual(cells(workflow), {
    trigger: [0, 0],
    a: [1, 0],
    root: [1, 1],
    fed: [2, 0],
  });
});

Deno.test("layoutWorkflow() ignores the back edge of a cycle and dangling edges", () => {
  const workflow = parseWorkflowYaml(
    `name: loop
trigger: event-publish
start: a
nodes:
  a: { module: push-zmq, next: b }
  b: { module: push-zmq, next: [a, nowhere] }
`,
    { catalog },
  );
  assert.deepEqual(cells(workflow), { trigger: [0, 0], a: [1, 0], b: [2, 0] });
});

Deno.test("layoutWorkflow() gives every node a distinct cell and every edge points right (property)", () => {
  fc.assert(
    fc.property(workflowArbitrary(TEST_DESCRIPTORS, { maxNodes: 12 }), (workflow) => {
      const placements = layoutWorkflow(workflow);
      assert.equal(placements.size, workflow.nodes.length);
      const taken = new Set([...placements.values()].map((p) => `${p.column}:${p.row}`));
      assert.equal(taken.size, workflow.nodes.length);
      for (const node of workflow.nodes) {
        for (const target of node.next.flat()) {
          const from = placements.get(node.id)?.column ?? -1;
          const to = placements.get(target)?.column ?? -1;
          assert.ok(to > from, `edge ${node.id} → ${target} goes from column ${from} to ${to}`);
        }
      }
    }),
    { numRuns: 200 },
  );
});
