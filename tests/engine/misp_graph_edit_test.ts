import assert from "node:assert/strict";
import {
  describeModuleWiring,
  type MispGraph,
  placeModuleAfterTrigger,
  readMispGraph,
  removeModuleNodes,
} from "../../engine/misp_graph_edit.ts";
import { userEventPublishGraph } from "../fixtures/misp_user_graph.ts";

const FLOWGATE = { id: "flowgate_event_publish", name: "flowgate_event_publish", version: "0.1" };

function targets(graph: MispGraph, id: string, port = "output_1"): string[] {
  return graph[id]!.outputs[port]!.connections.map((link) => link.node);
}

Deno.test("placeModuleAfterTrigger() inserts the node between the trigger and the user's first node", () => {
  const { graph, change, nodeId } = placeModuleAfterTrigger(
    readMispGraph(userEventPublishGraph()),
    "event-publish",
    FLOWGATE,
  );
  assert.equal(change, "added");
  assert.equal(nodeId, "4");
  assert.deepEqual(targets(graph, "1"), ["4"], "the trigger feeds Flowgate's node only");
  assert.deepEqual(targets(graph, "4"), ["2"], "Flowgate's node feeds the user's first node");
  assert.deepEqual(graph["2"]!.inputs.input_1!.connections, [{ node: "4", input: "output_1" }]);
  assert.deepEqual(graph["4"]!.data.id, "flowgate_event_publish");
  assert.equal(graph["4"]!.data.module_type, "action");
  assert.deepEqual(
    graph["3"],
    readMispGraph(userEventPublishGraph())["3"],
    "other nodes untouched",
  );
  assert.deepEqual(graph._frames, userEventPublishGraph()._frames, "MISP's frames kept");
  assert.equal(describeModuleWiring(graph, "event-publish", FLOWGATE.id), "wired");
});

Deno.test("placeModuleAfterTrigger() is idempotent and updates a stale node in place", () => {
  const { graph } = placeModuleAfterTrigger(
    readMispGraph(userEventPublishGraph()),
    "event-publish",
    FLOWGATE,
  );
  const again = placeModuleAfterTrigger(graph, "event-publish", FLOWGATE);
  assert.equal(again.change, "unchanged");
  assert.deepEqual(again.graph, graph);
  const newer = placeModuleAfterTrigger(graph, "event-publish", { ...FLOWGATE, version: "0.2" });
  assert.equal(newer.change, "updated");
  assert.equal(newer.detail, "version 0.1 → 0.2");
  assert.equal(newer.nodeId, "4");
  assert.equal(newer.graph["4"]!.data.module_version, "0.2");
});

Deno.test("placeModuleAfterTrigger() moves a node the user put elsewhere, keeping its params", () => {
  const source = readMispGraph(userEventPublishGraph());
  // The user hung Flowgate's node after the stop node (3 → 9).
  source["3"]!.outputs = { output_1: { connections: [{ node: "9", output: "input_1" }] } };
  source["9"] = {
    id: 9,
    data: { id: FLOWGATE.id, module_type: "action", indexed_params: { kept: "yes" } },
    inputs: { input_1: { connections: [{ node: "3", input: "output_1" }] } },
    outputs: { output_1: { connections: [] } },
  };
  assert.equal(describeModuleWiring(source, "event-publish", FLOWGATE.id), "not-after-trigger");
  const { graph, change, nodeId } = placeModuleAfterTrigger(source, "event-publish", FLOWGATE);
  assert.equal(change, "updated");
  assert.equal(graph["9"], undefined);
  assert.deepEqual(targets(graph, "3"), []);
  assert.deepEqual(targets(graph, "1"), [nodeId]);
  assert.deepEqual(graph[nodeId]!.data.indexed_params, { kept: "yes" });
});

Deno.test("placeModuleAfterTrigger() fills the empty workflow MISP creates for a trigger", () => {
  const empty = {
    1: { ...userEventPublishGraph()[1] as object, outputs: { output_1: { connections: [] } } },
  };
  const { graph, change } = placeModuleAfterTrigger(
    readMispGraph(empty),
    "event-publish",
    FLOWGATE,
  );
  assert.equal(change, "added");
  assert.deepEqual(targets(graph, "1"), ["2"]);
  assert.deepEqual(targets(graph, "2"), []);
});

Deno.test("placeModuleAfterTrigger() refuses a graph without the trigger's node", () => {
  assert.throws(
    () =>
      placeModuleAfterTrigger(readMispGraph(userEventPublishGraph()), "event-after-save", FLOWGATE),
    /has no "event-after-save" trigger node/,
  );
});

Deno.test("removeModuleNodes() restores the user's graph exactly", () => {
  const original = readMispGraph(userEventPublishGraph());
  const { graph } = placeModuleAfterTrigger(original, "event-publish", FLOWGATE);
  const { graph: undone, removed } = removeModuleNodes(graph, FLOWGATE.id);
  assert.deepEqual(removed, ["4"]);
  assert.deepEqual(undone, original);
  assert.deepEqual(removeModuleNodes(undone, FLOWGATE.id).removed, []);
});

Deno.test("readMispGraph() reads MISP's list form and refuses what is not a graph", () => {
  const list = Object.values(userEventPublishGraph()).filter((node) =>
    !("text" in (node as object))
  );
  const graph = readMispGraph(list.filter((node) => "data" in (node as object)));
  assert.deepEqual(Object.keys(graph), ["1", "2", "3"]);
  assert.deepEqual(graph["3"]!.outputs, {}, "MISP's [] for no ports reads as {}");
  assert.throws(() => readMispGraph("nope"), /not a graph/);
  assert.throws(() => readMispGraph({ 1: { id: 1, data: {} } }), /node "1" has no data.id/);
});
