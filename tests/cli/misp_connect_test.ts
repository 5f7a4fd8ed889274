import assert from "node:assert/strict";
import { readMispGraph } from "../../engine/misp_graph_edit.ts";
import { connectMisp, disconnectMisp, type MispChange } from "../../services/misp_connect.ts";
import { listAudit } from "../../store/audit.ts";
import { startMispSetup, userEventPublishWorkflow, WIRED_TRIGGERS } from "./misp_setup.ts";

const OPTIONS = { dryRun: false, actor: "test" };

function targets(graph: Record<string, unknown>, id: string): string[] {
  const node = readMispGraph(graph)[id];
  return (node?.outputs.output_1?.connections ?? []).map((link) => link.node);
}

function workflowOf(
  setup: {
    misp: {
      state: { workflows: Map<string, { trigger_id: string; data: Record<string, unknown> }> };
    };
  },
  trigger: string,
) {
  return [...setup.misp.state.workflows.values()].find((workflow) =>
    workflow.trigger_id === trigger
  );
}

/** Every change `misp:connect` makes on a fresh MISP for the setup's two triggers. */
function freshMispChanges(port: number): MispChange[] {
  return [
    { kind: "setting", name: "Plugin.Workflow_enable", from: false, to: true },
    { kind: "setting", name: "Plugin.Action_services_enable", from: false, to: true },
    {
      kind: "setting",
      name: "Plugin.Action_services_url",
      from: "http://127.0.0.1",
      to: "http://127.0.0.1",
    },
    { kind: "setting", name: "Plugin.Action_services_port", from: "6666", to: port },
    { kind: "module-enable", module: "flowgate_event_publish" },
    { kind: "workflow-create", trigger: "event-publish" },
    { kind: "node", trigger: "event-publish", module: "flowgate_event_publish", change: "added" },
    { kind: "trigger-enable", trigger: "event-publish" },
    { kind: "module-enable", module: "flowgate_enrichment_before_query" },
    { kind: "workflow-create", trigger: "enrichment-before-query" },
    {
      kind: "node",
      trigger: "enrichment-before-query",
      module: "flowgate_enrichment_before_query",
      change: "added",
    },
    { kind: "trigger-enable", trigger: "enrichment-before-query" },
  ].filter((change) => !(change.kind === "setting" && change.from === change.to)) as MispChange[];
}

Deno.test("connectMisp() --dry-run plans every change on a fresh MISP and changes nothing", async () => {
  await using setup = await startMispSetup();
  const report = await connectMisp(
    setup.admin,
    { address: setup.address, triggers: WIRED_TRIGGERS },
    { ...OPTIONS, dryRun: true, kv: setup.kv },
  );
  assert.equal(report.version, "2.5.1");
  assert.deepEqual(report.changes, freshMispChanges(setup.address.port));
  assert.match(report.notes.join("\n"), /Plugin.Workflow_enable is off/);
  assert.equal(setup.misp.state.settings.size, 0, "no setting written");
  assert.equal(setup.misp.state.workflows.size, 0, "no workflow created");
  assert.deepEqual(
    setup.misp.requests.filter((request) => request.method !== "GET"),
    [],
    "only reads",
  );
  assert.equal((await listAudit(setup.kv)).items.length, 0, "nothing audited");
});

Deno.test("connectMisp() wires a fresh MISP, audits each change, then has nothing to change", async (t) => {
  await using setup = await startMispSetup();
  const target = { address: setup.address, triggers: WIRED_TRIGGERS };
  const report = await connectMisp(setup.admin, target, { ...OPTIONS, kv: setup.kv });

  await t.step("the same changes as planned, in order", () => {
    assert.deepEqual(report.changes, freshMispChanges(setup.address.port));
    assert.deepEqual(report.notes, []);
  });

  await t.step("MISP's settings point at Flowgate", () => {
    const settings = setup.misp.state.settings;
    assert.equal(settings.get("Plugin.Workflow_enable"), true);
    assert.equal(settings.get("Plugin.Action_services_enable"), true);
    assert.equal(settings.get("Plugin.Action_services_port"), setup.address.port);
    const edit = setup.misp.requests.find((request) =>
      request.path === "/servers/serverSettingsEdit/Plugin.Action_services_port" &&
      request.method === "POST"
    );
    assert.deepEqual(edit?.body, { value: setup.address.port }, "MISP's body shape");
  });

  await t.step("the modules are enabled and each trigger runs Flowgate's node first", () => {
    assert.ok(setup.misp.state.enabledModules.has("flowgate_event_publish"));
    assert.ok(setup.misp.state.enabledModules.has("flowgate_enrichment_before_query"));
    for (const trigger of WIRED_TRIGGERS) {
      const workflow = workflowOf(setup, trigger)!;
      const graph = readMispGraph(workflow.data);
      const [next] = targets(workflow.data, "1");
      assert.equal(graph[next!]?.data.id, `flowgate_${trigger.replaceAll("-", "_")}`);
      assert.equal(setup.misp.state.settings.get(`Plugin.Workflow_triggers_${trigger}`), true);
    }
    assert.equal(workflowOf(setup, "event-after-save-new-from-pull"), undefined, "disabled: left");
  });

  await t.step("every change is in Flowgate's audit log", async () => {
    const audit = (await listAudit(setup.kv)).items.reverse();
    assert.equal(audit.length, report.changes.length);
    assert.ok(audit.every((entry) => entry.actor === "test"));
    assert.deepEqual(audit.slice(0, 2).map((entry) => [entry.action, entry.target]), [
      ["misp.setting", "Plugin.Workflow_enable"],
      ["misp.setting", "Plugin.Action_services_enable"],
    ]);
    assert.ok(audit.some((entry) => entry.action === "misp.node.added"));
  });

  await t.step("a second run and a dry run have nothing to change", async () => {
    const writes = setup.misp.requests.filter((request) => request.method === "POST").length;
    const again = await connectMisp(setup.admin, target, { ...OPTIONS, kv: setup.kv });
    assert.deepEqual(again.changes, []);
    const plan = await connectMisp(setup.admin, target, { ...OPTIONS, dryRun: true, kv: setup.kv });
    assert.deepEqual(plan.changes, []);
    assert.equal(
      setup.misp.requests.filter((request) => request.method === "POST").length,
      writes,
      "no write",
    );
  });
});

Deno.test("connectMisp() keeps the user's nodes and --undo gives them back unchanged", async () => {
  const workflows = userEventPublishWorkflow();
  await using setup = await startMispSetup({ workflows });
  const original = readMispGraph(workflows[0]!.data);
  const target = { address: setup.address, triggers: ["event-publish"] };
  await connectMisp(setup.admin, target, { ...OPTIONS, kv: setup.kv });

  const wired = workflowOf(setup, "event-publish")!.data;
  const graph = readMispGraph(wired);
  assert.deepEqual(targets(wired, "1"), ["4"], "trigger → Flowgate");
  assert.deepEqual(targets(wired, "4"), ["2"], "Flowgate → the user's tag-if");
  assert.deepEqual(graph["3"], original["3"], "the user's stop node as it was");
  assert.deepEqual(graph["2"]!.data, original["2"]!.data, "the user's params as they were");

  const plan = await disconnectMisp(setup.admin, { ...OPTIONS, dryRun: true, kv: setup.kv });
  assert.deepEqual(plan.changes, [
    { kind: "node", trigger: "event-publish", module: "flowgate_event_publish", change: "removed" },
  ]);
  assert.equal(targets(workflowOf(setup, "event-publish")!.data, "1")[0], "4", "dry: unchanged");

  const undone = await disconnectMisp(setup.admin, { ...OPTIONS, kv: setup.kv });
  assert.equal(undone.changes.length, 1);
  assert.deepEqual(readMispGraph(workflowOf(setup, "event-publish")!.data), original);
  assert.equal(setup.misp.state.settings.get("Plugin.Action_services_enable"), true, "kept");
  assert.deepEqual((await disconnectMisp(setup.admin, { ...OPTIONS, kv: setup.kv })).changes, []);
  const audit = (await listAudit(setup.kv)).items;
  assert.equal(audit[0]?.action, "misp.node.removed");
});

Deno.test("connectMisp() edits no workflow when MISP cannot reach Flowgate", async () => {
  await using setup = await startMispSetup({ actionService: false });
  await assert.rejects(
    connectMisp(setup.admin, { address: setup.address, triggers: WIRED_TRIGGERS }, {
      ...OPTIONS,
      kv: setup.kv,
    }),
    (error: Error) => {
      assert.match(error.message, /MISP does not list Flowgate's module "flowgate_event_publish"/);
      assert.match(error.message, new RegExp(`127.0.0.1:${setup.address.port}/modules`));
      assert.match(error.message, /FLOWGATE_MISP_ALLOW/);
      assert.match(error.message, /no workflow was changed/);
      return true;
    },
  );
  assert.equal(setup.misp.state.workflows.size, 0);
  assert.equal(setup.misp.state.settings.get("Plugin.Action_services_enable"), true);
  assert.equal((await listAudit(setup.kv)).items.length, 3, "the three settings made are audited");
});

Deno.test("connectMisp() updates a node MISP holds in the wrong place", async () => {
  const workflows = userEventPublishWorkflow();
  const data = workflows[0]!.data as Record<string, Record<string, unknown>>;
  // The user hung Flowgate's node after the stop node.
  data[3]!.outputs = { output_1: { connections: [{ node: "7", output: "input_1" }] } };
  data[7] = {
    id: 7,
    data: { id: "flowgate_event_publish", module_type: "action", indexed_params: {} },
    inputs: { input_1: { connections: [{ node: "3", input: "output_1" }] } },
    outputs: { output_1: { connections: [] } },
  };
  await using setup = await startMispSetup({ workflows });
  const report = await connectMisp(
    setup.admin,
    { address: setup.address, triggers: ["event-publish"] },
    { ...OPTIONS, kv: setup.kv },
  );
  assert.deepEqual(report.changes.filter((change) => change.kind === "node"), [{
    kind: "node",
    trigger: "event-publish",
    module: "flowgate_event_publish",
    change: "updated",
    detail: "moved right after the trigger",
  }]);
  const wired = workflowOf(setup, "event-publish")!.data;
  assert.deepEqual(targets(wired, "3"), []);
  assert.equal(readMispGraph(wired)[targets(wired, "1")[0]!]?.data.id, "flowgate_event_publish");
});

Deno.test("connectMisp() leaves a trigger this MISP does not have, and says so", async () => {
  await using setup = await startMispSetup({ settings: { "Plugin.Workflow_enable": true } });
  const report = await connectMisp(
    setup.admin,
    { address: setup.address, triggers: ["event-before-delete"] },
    { ...OPTIONS, kv: setup.kv },
  );
  assert.deepEqual(report.notes, [
    'MISP 2.5.1 has no trigger "event-before-delete": its Flowgate workflows are not wired',
  ]);
  assert.ok(report.changes.every((change) => change.kind === "setting"));
  assert.ok(!setup.misp.state.enabledModules.has("flowgate_event_before_delete"));
});
