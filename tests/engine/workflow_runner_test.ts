import assert from "node:assert/strict";
import type { JsonObject, Workflow, WorkflowNode } from "../../engine/model.ts";
import { MAX_RUN_NESTING } from "../../engine/limits.ts";
import { runWorkflow } from "../../engine/run_workflow.ts";
import { renderTemplate } from "../../engine/template.ts";
import { createWorkflowRunner, NestedRunError } from "../../services/workflow_runner.ts";
import type { ModuleServices } from "../../engine/module_services.ts";
import { createWorkflow, getWorkflow } from "../../store/workflows.ts";
import { startWebhookSink, type WebhookSink } from "../fakes/webhook_sink.ts";
import { loopbackFetch } from "../modules/action/outbound_test_context.ts";
import { readSharedData } from "../modules/action/node_test_context.ts";
import { ENGINE_LOOKUPS } from "../../modules/registry.ts";

const SAVE = { actor: "api:admin", sourceFormat: "yaml" } as const;

/** An event-publish workflow running `actions` one after the other. */
function chain(
  name: string,
  actions: Omit<WorkflowNode, "kind" | "next">[],
  enabled = true,
): Workflow {
  const ids = actions.map((action) => action.id);
  return {
    name,
    description: "",
    trigger: "event-publish",
    enabled,
    order: 0,
    on_timeout: "block",
    nodes: [
      { id: "1", module: "event-publish", kind: "trigger", params: {}, next: [[ids[0]!]] },
      ...actions.map((action, index) => ({
        ...action,
        kind: "action" as const,
        next: [ids[index + 1] === undefined ? [] : [ids[index + 1]!]],
      })),
    ],
  };
}

function services(): ModuleServices {
  return {
    outboundFetch: loopbackFetch(),
    misp: null,
    mail: null,
    zmq: null,
    renderTemplate,
    now: () => 0,
    secrets: [],
  };
}

/** `parent` runs `child`; `child` calls the sink, then tries to run `parent` again. */
async function seed(kv: Deno.Kv, sink: WebhookSink): Promise<void> {
  await createWorkflow(
    kv,
    chain("parent", [{
      id: "2",
      module: "run-workflow",
      params: { workflows: ["child"], input_data: "roaming_data" },
    }]),
    SAVE,
  );
  await createWorkflow(
    kv,
    chain("child", [
      { id: "2", module: "webhook", params: { url: `${sink.url}/child` } },
      {
        id: "3",
        module: "run-workflow",
        params: { workflows: ["parent"], input_data: "roaming_data" },
      },
    ]),
    SAVE,
  );
  await createWorkflow(kv, chain("off", [], false), SAVE);
}

function event(): Promise<JsonObject> {
  return readSharedData("misp-event-pymisp-sighting_2.json");
}

Deno.test("createWorkflowRunner() runs a stored workflow by name with the engine", async () => {
  await using kv = await Deno.openKv(":memory:");
  await using sink = startWebhookSink();
  await seed(kv, sink);
  const runner = createWorkflowRunner({ kv, services: services(), ...ENGINE_LOOKUPS });
  const result = await runner("child", await event(), { caller: "elsewhere" });
  assert.equal(sink.requests.length, 1);
  assert.equal(sink.requests[0]?.path, "/child");
  assert.equal(result.trace.find((entry) => entry.node_id === "2")?.status, "success");
  assert.equal(result.outcome, "success");
});

Deno.test("createWorkflowRunner() stops a workflow from running itself, directly or not", async (t) => {
  await using kv = await Deno.openKv(":memory:");
  await using sink = startWebhookSink();
  await seed(kv, sink);
  const runner = createWorkflowRunner({ kv, services: services(), ...ENGINE_LOOKUPS });
  await t.step("directly", async () => {
    await assert.rejects(
      () => runner("parent", {}, { caller: "parent" }),
      (error) =>
        error instanceof NestedRunError &&
        error.message ===
          'Cannot run workflow "parent": it is already running further up the chain ("parent" → "parent")',
    );
  });
  await t.step("through another workflow", async () => {
    const parent = await getWorkflow(kv, "parent");
    const result = await runWorkflow(parent!.workflow, await event(), {
      ...ENGINE_LOOKUPS,
      services: { ...services(), runWorkflow: runner },
      workflowId: parent!.id,
    });
    assert.equal(result.outcome, "success");
    assert.equal(sink.requests.length, 1, "child ran once, parent was not re-entered");
  });
  await t.step("the refusal is the nested node's error", async () => {
    const nested = await runner("child", await event(), { caller: "parent" });
    const refused = nested.trace.find((entry) => entry.node_id === "3");
    assert.equal(refused?.status, "failure");
    assert.deepEqual(refused?.errors, [
      'Error while executing module run-workflow. Error: Cannot run workflow "parent": it is already running further up the chain ("parent" → "child" → "parent")',
    ]);
  });
});

Deno.test("createWorkflowRunner() refuses unknown and disabled workflows", async () => {
  await using kv = await Deno.openKv(":memory:");
  await using sink = startWebhookSink();
  await seed(kv, sink);
  const runner = createWorkflowRunner({ kv, services: services(), ...ENGINE_LOOKUPS });
  await assert.rejects(
    () => runner("nope", {}, { caller: "parent" }),
    { name: "NestedRunError", message: 'Cannot run workflow "nope": no such workflow' },
  );
  await assert.rejects(
    () => runner("off", {}, { caller: "parent" }),
    { name: "NestedRunError", message: 'Cannot run workflow "off": it is disabled' },
  );
});

Deno.test("createWorkflowRunner() passes a dry run on to the nested workflow", async () => {
  await using kv = await Deno.openKv(":memory:");
  await using sink = startWebhookSink();
  await seed(kv, sink);
  const runner = createWorkflowRunner({ kv, services: services(), ...ENGINE_LOOKUPS });
  const result = await runner("child", await event(), { caller: "parent", dryRun: true });
  assert.equal(sink.requests.length, 0);
  assert.equal(result.trace.find((entry) => entry.node_id === "2")?.status, "success");
});

Deno.test("createWorkflowRunner() stops a chain of distinct workflows at MAX_RUN_NESTING", async () => {
  await using kv = await Deno.openKv(":memory:");
  await using sink = startWebhookSink();
  for (let index = 0; index < MAX_RUN_NESTING + 2; index++) {
    await createWorkflow(
      kv,
      chain(`w${index}`, [
        { id: "2", module: "webhook", params: { url: `${sink.url}/w${index}` } },
        {
          id: "3",
          module: "run-workflow",
          params: { workflows: [`w${index + 1}`], input_data: "roaming_data" },
        },
      ]),
      SAVE,
    );
  }
  const runner = createWorkflowRunner({ kv, services: services(), ...ENGINE_LOOKUPS });
  await runner("w0", await event(), { caller: "top" });
  assert.deepEqual(
    sink.requests.map((request) => request.path),
    Array.from({ length: MAX_RUN_NESTING }, (_, index) => `/w${index}`),
  );
});
