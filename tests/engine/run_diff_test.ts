import assert from "node:assert/strict";
import type { JsonObject, TraceEntry } from "../../engine/model.ts";
import { describeNodeDiff, diffRuns } from "../../engine/run_diff.ts";
import { runWorkflow } from "../../engine/run_workflow.ts";
import { parseWorkflowYaml } from "../../engine/yaml_codec.ts";
import { ENGINE_LOOKUPS, MODULE_CATALOG } from "../../modules/registry.ts";
import { testServices } from "./fake_modules.ts";

const EXAMPLE = new URL("../../examples/block-tlp-red-publication.yaml", import.meta.url);
const EVENT = new URL("../../../shared/data/misp-event-pymisp-sighting_2.json", import.meta.url);

async function redEvent(): Promise<JsonObject> {
  const data = JSON.parse(await Deno.readTextFile(EVENT));
  data.Event.Tag.push({ id: "9", name: "tlp:red", colour: "#CC0033", exportable: true });
  return data;
}

function entry(nodeId: string, fields: Partial<TraceEntry> = {}): TraceEntry {
  return {
    seq: 0,
    node_id: nodeId,
    module: "tag-if",
    kind: "logic",
    status: "success",
    errors: [],
    duration_ms: 1,
    path: [],
    ...fields,
  };
}

Deno.test("diffRuns() shows the decision a workflow change flipped on a real event", async () => {
  const source = await Deno.readTextFile(EXAMPLE);
  const before = parseWorkflowYaml(source, { catalog: MODULE_CATALOG });
  const after = parseWorkflowYaml(source.replace("tags: [tlp:red]", "tags: [tlp:amber]"), {
    catalog: MODULE_CATALOG,
  });
  const data = await redEvent();
  const options = { ...ENGINE_LOOKUPS, services: testServices(), dryRun: true };
  const original = await runWorkflow(before, data, options);
  const replay = await runWorkflow(after, data, options);
  assert.equal(original.outcome, "blocked");

  const diff = diffRuns(original, replay);
  assert.equal(diff.changed, true);
  assert.deepEqual(diff.outcome, { before: "blocked", after: "success", changed: true });
  assert.deepEqual(diff.deciding_node, { before: "stop", changed: true });
  assert.deepEqual(
    diff.nodes.map((node) => [node.node_id, node.change]),
    [
      ["tlp-red", "decision"],
      ["notify", "now-runs"],
      ["warn-admin", "no-longer-runs"],
      ["stop", "no-longer-runs"],
    ],
  );
  assert.equal(describeNodeDiff(diff.nodes[0]!), 'tag-if "tlp-red": decision then → else');
  assert.match(describeNodeDiff(diff.nodes[1]!), /^mattermost "notify": now runs \(/);
  assert.equal(diff.unchanged, 1);
});

Deno.test("diffRuns() of identical runs reports nothing, dry flags aside", () => {
  const action = { kind: "http", dry: false, summary: "POST x", method: "POST", url: "https://x" };
  const run = {
    outcome: "success" as const,
    trace: [entry("a", { branch: "then", result: true }), entry("b", { actions: [action] })],
  };
  const dry = {
    outcome: "success" as const,
    trace: [
      entry("a", { branch: "then", result: true }),
      entry("b", { actions: [{ ...action, dry: true, summary: "Would POST x" }] }),
    ],
  };
  const diff = diffRuns(run, dry);
  assert.equal(diff.changed, false);
  assert.deepEqual(diff.nodes, []);
  assert.equal(diff.unchanged, 2);
});

Deno.test("diffRuns() tells status and action changes apart and numbers repeated visits", () => {
  const original = {
    outcome: "success" as const,
    trace: [
      entry("hook", {
        kind: "action",
        module: "webhook",
        actions: [{ kind: "http", dry: false, summary: "", url: "https://a" }],
      }),
      entry("hook", { kind: "action", module: "webhook", status: "success" }),
    ],
  };
  const replay = {
    outcome: "success" as const,
    trace: [
      entry("hook", {
        kind: "action",
        module: "webhook",
        actions: [{ kind: "http", dry: true, summary: "", url: "https://b" }],
      }),
      entry("hook", { kind: "action", module: "webhook", status: "failure" }),
    ],
  };
  const diff = diffRuns(original, replay);
  assert.deepEqual(diff.nodes.map((node) => [node.visit, node.change]), [
    [1, "actions"],
    [2, "status"],
  ]);
  assert.equal(describeNodeDiff(diff.nodes[1]!), 'webhook "hook" (visit 2): success → failure');
});
