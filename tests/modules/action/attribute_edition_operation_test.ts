import assert from "node:assert/strict";
import { attributeEditionOperation } from "../../../modules/action/attribute_edition_operation.ts";
import { MISP_ACTIONS } from "../../../modules/action/misp_actions.ts";
import { importMispWorkflow } from "../../../engine/misp_codec.ts";
import { ENGINE_LOOKUPS, MODULE_CATALOG } from "../../../modules/registry.ts";
import { runWorkflow } from "../../../engine/run_workflow.ts";
import { renderTemplate } from "../../../engine/template.ts";
import { createSightingContext, sightingEvent, startSightingMisp } from "./misp_test_context.ts";

Deno.test("attribute_edition_operation is listed with MISP's base-class descriptor", () => {
  assert.ok(MISP_ACTIONS.includes(attributeEditionOperation));
  const { descriptor } = attributeEditionOperation;
  assert.equal(descriptor.id, "attribute_edition_operation");
  assert.equal(descriptor.version, "0.1");
  assert.equal(descriptor.support_filters, true);
  assert.equal(descriptor.expect_misp_core_format, true);
  assert.deepEqual(descriptor.params, []);
  assert.equal(MODULE_CATALOG.describe("attribute_edition_operation"), descriptor);
});

Deno.test("attribute_edition_operation succeeds without touching MISP or the data", async (t) => {
  for (const dryRun of [false, true]) {
    await t.step(dryRun ? "dry run" : "live", async () => {
      await using misp = await startSightingMisp();
      const run = await createSightingContext({ module: attributeEditionOperation, misp, dryRun });
      const before = JSON.stringify(run.data());
      assert.equal(await attributeEditionOperation.exec(run.context), true);
      assert.equal(misp.requests.length, 0);
      assert.deepEqual(run.records, []);
      assert.deepEqual(run.context.errors, []);
      assert.equal(JSON.stringify(run.data()), before);
    });
  }
});

Deno.test("a MISP workflow holding attribute_edition_operation imports and runs", async () => {
  const workflow = importMispWorkflow({
    Workflow: {
      name: "Edition base",
      trigger_id: "event-publish",
      data: {
        "1": {
          id: 1,
          name: "Event Publish",
          data: { id: "event-publish", module_type: "trigger", indexed_params: [] },
          inputs: {},
          outputs: { output_1: { connections: [{ node: "2", output: "input_1" }] } },
        },
        "2": {
          id: 2,
          name: "Attribute edition operation",
          data: {
            id: "attribute_edition_operation",
            module_type: "action",
            indexed_params: [],
          },
          inputs: { input_1: { connections: [{ node: "1", input: "output_1" }] } },
          outputs: { output_1: { connections: [] } },
        },
      },
    },
  }, MODULE_CATALOG);
  assert.deepEqual(
    workflow.nodes.map((node) => node.module),
    ["event-publish", "attribute_edition_operation"],
  );
  const result = await runWorkflow(workflow, await sightingEvent(), {
    ...ENGINE_LOOKUPS,
    services: {
      outboundFetch: null,
      misp: null,
      mail: null,
      zmq: null,
      renderTemplate,
      now: () => 0,
      secrets: [],
    },
  });
  assert.equal(result.outcome, "success");
  assert.deepEqual(result.errors, []);
  assert.deepEqual(
    result.trace.map((entry) => [entry.module, entry.status]),
    [["event-publish", "success"], ["attribute_edition_operation", "success"]],
  );
});
