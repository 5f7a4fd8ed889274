import assert from "node:assert/strict";
import { describeWorkflowChange } from "../../store/workflow_changes.ts";
import { makeWorkflow } from "./fixtures.ts";

Deno.test("describeWorkflowChange() names what changed in one line", async (t) => {
  const base = makeWorkflow();
  await t.step("no previous version", () => {
    assert.equal(describeWorkflowChange(undefined, base), "created");
  });
  await t.step("identical", () => {
    assert.equal(describeWorkflowChange(base, structuredClone(base)), "no changes");
  });
  await t.step("workflow fields", () => {
    const next = makeWorkflow({
      enabled: false,
      order: 3,
      trigger: "event-after-save",
      on_timeout: "allow",
    });
    assert.equal(
      describeWorkflowChange(base, next),
      'disabled; trigger changed from "event-publish" to "event-after-save"; order changed from 0 to 3; on_timeout changed from "block" to "allow"',
    );
  });
  await t.step("nodes removed, module, filters, edges and layout", () => {
    const [trigger, tlp] = base.nodes;
    const next = makeWorkflow({
      nodes: [
        { ...trigger!, layout: { x: 1, y: 2 } },
        {
          ...tlp!,
          module: "tag-operation-if",
          filters: { selector: "", value: "", operator: "", path: "" },
          next: [[], []],
        },
      ],
    });
    assert.equal(
      describeWorkflowChange(base, next),
      'layout of node "trigger" changed; module of node "tlp" changed from "tag-if" to "tag-operation-if"; filters of node "tlp" changed; edges of node "tlp" changed; node "stop" removed',
    );
  });
  await t.step("node order only", () => {
    const next = makeWorkflow({ nodes: [...base.nodes].reverse() });
    assert.equal(describeWorkflowChange(base, next), "node order changed");
  });
  await t.step("many changes are summarised", () => {
    const nodes = Array.from({ length: 8 }, (_, i) => ({
      id: `n${i}`,
      module: "webhook",
      kind: "action" as const,
      params: {},
      next: [],
    }));
    assert.match(
      describeWorkflowChange(base, makeWorkflow({ nodes })),
      /^node "n0" added; .* and 6 more changes$/,
    );
  });
});
