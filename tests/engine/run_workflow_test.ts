import assert from "node:assert/strict";
import { dataFingerprint, runDeferredWalk, runWorkflow } from "../../engine/run_workflow.ts";
import { InProcessDeferredRunner, scheduleDeferred } from "../../engine/deferred.ts";
import type { JsonObject, Workflow } from "../../engine/model.ts";
import { MAX_RUN_NESTING } from "../../engine/limits.ts";
import { parseWorkflowSource } from "../../engine/workflow_source.ts";
import { ENGINE_LOOKUPS, getModule, MODULE_CATALOG } from "../../modules/registry.ts";
import type { WorkflowModule } from "../../engine/module.ts";
import type { ModuleLookup } from "../../engine/walker.ts";
import { eventWith, fakeAction, node, testServices, workflowOf } from "./fake_modules.ts";

const DATA = new URL("../../../shared/data/", import.meta.url);

async function readJson(name: string): Promise<JsonObject> {
  return JSON.parse(await Deno.readTextFile(new URL(name, DATA))) as JsonObject;
}

/** The registry, with test modules added on top. */
function modulesWith(...extra: WorkflowModule[]): ModuleLookup {
  const byId = new Map(extra.map((module) => [module.descriptor.id, module]));
  return { getModule: (id) => byId.get(id) ?? getModule(id) };
}

function blockRed(trigger = "event-publish", message = ""): Workflow {
  return workflowOf(trigger, [
    node("t", trigger, "trigger", [["red"]]),
    node("red", "tag-if", "logic", [["stop"], ["after"]], { scope: "event", tags: ["tlp:red"] }),
    node("stop", "stop-execution", "action", [], message ? { message } : {}),
    node("after", "log-it", "action", [[]]),
  ], "block-red");
}

Deno.test("runWorkflow() ends blocked on stop-execution with MISP's error string", async (t) => {
  await t.step("a Jinja message is rendered against the data", async () => {
    const log: string[] = [];
    const result = await runWorkflow(
      blockRed("event-publish", "Refused: {{ Event.info }}"),
      eventWith(["tlp:red"]),
      {
        ...ENGINE_LOOKUPS,
        services: testServices(),
        modules: modulesWith(fakeAction("log-it", log)),
        workflowId: "wf-7",
      },
    );
    assert.equal(result.outcome, "blocked");
    assert.equal(result.success, false);
    assert.equal(result.deciding_node_id, "stop");
    assert.deepEqual(result.errors, [
      "Node `stop-execution` (stop) from Workflow `block-red` (wf-7) returned the following error: Refused: Test event",
    ]);
    assert.deepEqual(log, []);
  });
  await t.step("an empty message falls back to 'Execution stopped'", async () => {
    const result = await runWorkflow(blockRed(), eventWith(["tlp:red"]), {
      ...ENGINE_LOOKUPS,
      services: testServices(),
      modules: modulesWith(fakeAction("log-it", [])),
    });
    assert.match(
      result.errors[0] ?? "",
      /\(block-red\) returned the following error: Execution stopped$/,
    );
  });
  await t.step("the other branch is allowed", async () => {
    const log: string[] = [];
    const result = await runWorkflow(blockRed(), eventWith(["tlp:green"]), {
      ...ENGINE_LOOKUPS,
      services: testServices(),
      modules: modulesWith(fakeAction("log-it", log)),
    });
    assert.equal(result.outcome, "success");
    assert.equal(result.success, true);
    assert.deepEqual(log, ["after"]);
    assert.deepEqual(result.trace.map((entry) => [entry.node_id, entry.branch ?? entry.status]), [
      ["t", "next"],
      ["red", "else"],
      ["after", "success"],
    ]);
  });
  await t.step("stop-execution also aborts a non-blocking workflow (outcome blocked)", async () => {
    const log: string[] = [];
    const result = await runWorkflow(blockRed("event-after-save"), eventWith(["tlp:red"]), {
      ...ENGINE_LOOKUPS,
      services: testServices(),
      modules: modulesWith(fakeAction("log-it", log)),
    });
    assert.equal(result.outcome, "blocked");
  });
});

Deno.test("runWorkflow() names the outcome of other blocking failures", async (t) => {
  const graph = workflowOf("event-publish", [
    node("t", "event-publish", "trigger", [["gate"]]),
    node("gate", "gate", "action", [[]]),
  ]);
  await t.step("a blocking module returning false is a veto: blocked", async () => {
    const gate = fakeAction("gate", [], { ok: false, blocking: true, errors: ["denied"] });
    const result = await runWorkflow(graph, eventWith(), {
      ...ENGINE_LOOKUPS,
      services: testServices(),
      modules: modulesWith(gate),
    });
    assert.equal(result.outcome, "blocked");
    assert.equal(result.deciding_node_id, "gate");
  });
  await t.step("a blocking module that throws: failure", async () => {
    const gate = fakeAction("gate", [], { blocking: true, throws: new Error("down") });
    const result = await runWorkflow(graph, eventWith(), {
      ...ENGINE_LOOKUPS,
      services: testServices(),
      modules: modulesWith(gate),
    });
    assert.equal(result.outcome, "failure");
    assert.equal(result.success, false);
    assert.deepEqual(result.errors, [
      "Node `gate` (gate) from Workflow `test-flow` (test-flow) returned the following error: Error while executing module gate. Error: down",
    ]);
  });
  await t.step(
    "a failing non-blocking action in a blocking workflow: success with errors",
    async () => {
      const flaky = fakeAction("gate", [], { ok: false, errors: ["smtp down"] });
      const result = await runWorkflow(graph, eventWith(), {
        ...ENGINE_LOOKUPS,
        services: testServices(),
        modules: modulesWith(flaky),
      });
      assert.equal(result.outcome, "success");
      assert.equal(result.errors.length, 1);
    },
  );
});

Deno.test("runWorkflow() fails before walking on bad input", async (t) => {
  await t.step("normalisation failure", async () => {
    const result = await runWorkflow(blockRed(), { nothing: "here" }, {
      ...ENGINE_LOOKUPS,
      services: testServices(),
    });
    assert.equal(result.outcome, "failure");
    assert.equal(result.success, false);
    assert.match(result.errors[0] ?? "", /^Error while normalizing data for trigger\. Error:\n/);
    assert.equal(result.trace.length, 1);
    assert.equal(result.trace[0]?.status, "failure");
  });
  await t.step("unknown trigger", async () => {
    const workflow = workflowOf("no-such-trigger", [node("t", "no-such-trigger", "trigger", [[]])]);
    const result = await runWorkflow(workflow, eventWith(), {
      ...ENGINE_LOOKUPS,
      services: testServices(),
    });
    assert.equal(result.outcome, "failure");
    assert.deepEqual(result.errors, ["Unknown trigger `no-such-trigger`"]);
  });
  await t.step("graph trigger different from the workflow's trigger", async () => {
    const workflow = workflowOf("event-publish", [node("t", "event-after-save", "trigger", [[]])]);
    const result = await runWorkflow(workflow, eventWith(), {
      ...ENGINE_LOOKUPS,
      services: testServices(),
    });
    assert.deepEqual(result.errors, ["Invalid start node `-1`"]);
  });
  await t.step("a deferred walk from a node that does not exist", async () => {
    const result = await runDeferredWalk(blockRed(), {
      start_node_id: "ghost",
      data: eventWith(),
      from_node_id: "fork",
    }, { ...ENGINE_LOOKUPS, services: testServices() });
    assert.equal(result.outcome, "failure");
    assert.deepEqual(result.errors, ["Invalid start node `ghost`"]);
  });
  await t.step("trigger entry condition not satisfied", async () => {
    const workflow = workflowOf("tag-attached-after-save", [
      {
        ...node("t", "tag-attached-after-save", "trigger", [[]]),
        params: { scope: "event", locality: "local", tag: "" },
      },
    ]);
    const raw = {
      Tag: { id: "3", name: "tlp:red", event_id: "1", local: false },
      Event: eventWith().Event,
    };
    const result = await runWorkflow(workflow, raw, {
      ...ENGINE_LOOKUPS,
      services: testServices(),
    });
    assert.equal(result.outcome, "failure");
    assert.deepEqual(result.errors, [
      "Conditions on the trigger are not satisfied to continue the execution",
    ]);
  });
});

Deno.test("runWorkflow() defers concurrent tasks and runDeferredWalk() runs them non-blocking", async () => {
  const log: string[] = [];
  const workflow = workflowOf("event-publish", [
    node("t", "event-publish", "trigger", [["fork"]]),
    node("fork", "concurrent-task", "logic", [["a", "nested"]]),
    node("a", "log-it", "action", [["stop"]]),
    node("stop", "stop-execution", "action", []),
    node("nested", "concurrent-task", "logic", [["b"]]),
    node("b", "log-it", "action", [[]]),
  ]);
  const modules = modulesWith(fakeAction("log-it", log));
  const result = await runWorkflow(workflow, eventWith(), {
    ...ENGINE_LOOKUPS,
    services: testServices(),
    modules,
  });
  assert.equal(result.outcome, "success", "a blocking module after a concurrent task cannot block");
  assert.deepEqual(log, []);
  assert.deepEqual(result.deferred.map((walk) => walk.start_node_id), ["a", "nested"]);

  const first = await runDeferredWalk(workflow, result.deferred[0]!, {
    ...ENGINE_LOOKUPS,
    services: testServices(),
    modules,
  });
  assert.deepEqual(log, ["a"]);
  assert.equal(first.outcome, "blocked");

  const runner = new InProcessDeferredRunner({
    ...ENGINE_LOOKUPS,
    services: testServices(),
    modules,
  });
  await scheduleDeferred(runner, result, { workflow });
  assert.equal(runner.pending, 2);
  const results = await runner.drain();
  assert.deepEqual(results.map((run) => run.trace[0]?.node_id), ["a", "nested", "b"]);
  assert.deepEqual(log, ["a", "a", "b"]);
  assert.equal(runner.pending, 0);
});

Deno.test("runWorkflow() guards against re-entrant runs", async (t) => {
  const log: string[] = [];
  const modules = modulesWith(fakeAction("log-it", log));
  const data = eventWith(["tlp:red"]);
  await t.step("same workflow on the same event further up: success, not walked", async () => {
    const result = await runWorkflow(blockRed(), data, {
      ...ENGINE_LOOKUPS,
      services: testServices(),
      modules,
      workflowId: "wf-1",
      ancestry: [{ workflow: "wf-1", fingerprint: dataFingerprint(data) }],
    });
    assert.equal(result.outcome, "success");
    assert.equal(result.success, true);
    assert.equal(result.trace.length, 1);
    assert.equal(result.trace[0]?.status, "guarded");
    assert.match(result.trace[0]?.note ?? "", /already running on this data/);
  });
  await t.step("another workflow or another event runs normally", async () => {
    for (
      const ancestry of [
        [{ workflow: "wf-2", fingerprint: dataFingerprint(data) }],
        [{
          workflow: "wf-1",
          fingerprint: dataFingerprint(eventWith(["other"]) as JsonObject) + "x",
        }],
      ]
    ) {
      const result = await runWorkflow(blockRed(), data, {
        ...ENGINE_LOOKUPS,
        services: testServices(),
        modules,
        workflowId: "wf-1",
        ancestry,
      });
      assert.equal(result.outcome, "blocked");
    }
  });
  await t.step(`nesting deeper than ${MAX_RUN_NESTING}`, async () => {
    const ancestry = Array.from({ length: MAX_RUN_NESTING + 1 }, (_, index) => ({
      workflow: `wf-${index + 10}`,
      fingerprint: `f${index}`,
    }));
    const result = await runWorkflow(blockRed(), data, {
      ...ENGINE_LOOKUPS,
      services: testServices(),
      modules,
      ancestry,
    });
    assert.equal(result.outcome, "success");
    assert.equal(result.trace[0]?.status, "guarded");
    assert.match(result.trace[0]?.note ?? "", /runs are already nested/);
  });
});

Deno.test("dataFingerprint() identifies the event, not its content", () => {
  const event = eventWith(["a"]);
  assert.equal(dataFingerprint(event), dataFingerprint(eventWith(["b"])));
  const later = eventWith(["a"]);
  (later.Event as JsonObject).timestamp = "1551253650";
  assert.notEqual(dataFingerprint(event), dataFingerprint(later));
  assert.equal(dataFingerprint({ b: 1, a: [1, 2] }), dataFingerprint({ a: [1, 2], b: 1 }));
  assert.notEqual(dataFingerprint({ a: [1, 2] }), dataFingerprint({ a: [2, 1] }));
  assert.match(dataFingerprint(event), /^[0-9a-f]{64}$/);
});

Deno.test("runWorkflow() decides MISP's real blueprints on real events", async (t) => {
  const sighting = await readJson("misp-event-pymisp-sighting_2.json");
  const load = async (name: string, trigger?: string) =>
    parseWorkflowSource(await Deno.readTextFile(new URL(name, DATA)), {
      filename: name,
      trigger,
      catalog: MODULE_CATALOG,
    }).workflow;

  await t.step("PAP:RED/tlp:red blueprint blocks an enrichment of tlp:red data", async () => {
    const workflow = await load(
      "blueprint_pap_red-and-tlp_red-blocking_1661328258.json",
      "enrichment-before-query",
    );
    const red = structuredClone(sighting);
    const attributes = (red.Event as JsonObject).Attribute as JsonObject[];
    attributes[1] = { ...attributes[1], Tag: [{ id: "9", name: "tlp:red" }] };
    const result = await runWorkflow(workflow, { ...red, _module: "abuseipdb" }, {
      ...ENGINE_LOOKUPS,
      services: testServices(),
    });
    assert.equal(result.outcome, "blocked");
    assert.match(
      result.errors[0] ?? "",
      /^Node `stop-execution` \(\d+\) from Workflow .* returned the following error: Execution stopped$/,
    );
    const tagIf = result.trace.find((entry) => entry.module === "tag-if");
    assert.equal(tagIf?.branch, "then");
  });
  await t.step("PAP:RED/tlp:red blueprint allows the same event without the tag", async () => {
    const workflow = await load(
      "blueprint_pap_red-and-tlp_red-blocking_1661328258.json",
      "enrichment-before-query",
    );
    const result = await runWorkflow(workflow, { ...sighting, _module: "abuseipdb" }, {
      ...ENGINE_LOOKUPS,
      services: testServices(),
    });
    assert.equal(result.outcome, "success");
    assert.deepEqual(result.errors, []);
  });
  for (
    const name of [
      "blueprint_disable-to_ids-flag-for-existing-hash-in-hashlookup_1667228944.json",
      "blueprint_set-tag-based-on-bgp-ranking-maliciousness-level_1668498668.json",
    ]
  ) {
    await t.step(`${name} lets the publication through in a dry run`, async () => {
      const workflow = await load(name);
      const result = await runWorkflow(workflow, sighting, {
        ...ENGINE_LOOKUPS,
        services: testServices(),
        dryRun: true,
      });
      assert.equal(result.outcome, "success", JSON.stringify(result.errors));
      assert.equal(result.success, true);
    });
  }
  await t.step(
    "the bgp-ranking blueprint defers its enrichment behind a concurrent task",
    async () => {
      const workflow = await load(
        "blueprint_set-tag-based-on-bgp-ranking-maliciousness-level_1668498668.json",
      );
      const result = await runWorkflow(workflow, sighting, {
        ...ENGINE_LOOKUPS,
        services: testServices(),
        dryRun: true,
      });
      assert.deepEqual(result.deferred.map((walk) => walk.start_node_id), ["29"]);
      assert.deepEqual(result.trace.map((entry) => entry.node_id), ["1", "30"]);
    },
  );
  await t.step(
    "the hashlookup blueprint visits its three actions in order on the blocking path",
    async () => {
      const workflow = await load(
        "blueprint_disable-to_ids-flag-for-existing-hash-in-hashlookup_1667228944.json",
      );
      const result = await runWorkflow(workflow, sighting, {
        ...ENGINE_LOOKUPS,
        services: testServices(),
        dryRun: true,
      });
      assert.deepEqual(result.trace.map((entry) => entry.node_id), ["1", "10", "13", "16"]);
    },
  );
  await t.step("the curation blueprint filters, branches and resets on a real event", async () => {
    const workflow = await load(
      "blueprint_curation---toggle-automation-flag-from-network-ioc-based-on-abuseipdb.json",
      "event-after-save-new",
    );
    const result = await runWorkflow(workflow, sighting, {
      ...ENGINE_LOOKUPS,
      services: testServices(),
      dryRun: true,
    });
    assert.equal(result.outcome, "success");
    const branches = Object.fromEntries(
      result.trace.filter((entry) => entry.kind === "logic").map((
        entry,
      ) => [entry.node_id, entry.branch]),
    );
    assert.deepEqual(branches, {
      "60": "next",
      "54": "next",
      "58": "else",
      "61": "then",
      "59": "next",
    });
    const filterA = result.trace.find((entry) => entry.node_id === "60");
    assert.deepEqual((filterA?.observed?.filter as { value: unknown }).value, [
      "ip-src",
      "ip-dst",
      "hostname",
      "domain",
      "domain|ip",
    ]);
  });
});
