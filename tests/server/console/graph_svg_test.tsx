import assert from "node:assert/strict";
import { parseWorkflowYaml } from "../../../engine/yaml_codec.ts";
import type { TraceEntry } from "../../../engine/model.ts";
import { MODULE_CATALOG } from "../../../modules/registry.ts";
import { WorkflowGraph } from "../../../server/console/graph_svg.tsx";

const YAML = await Deno.readTextFile(
  new URL("../../../examples/block-tlp-red-publication.yaml", import.meta.url),
);

async function render(trace?: { entries: TraceEntry[]; decidingNodeId?: string }): Promise<string> {
  const workflow = parseWorkflowYaml(YAML, { catalog: MODULE_CATALOG });
  return String(
    await (
      <WorkflowGraph
        workflow={workflow}
        catalog={MODULE_CATALOG}
        {...(trace ? { trace } : {})}
      />
    ),
  );
}

function nodeClasses(svg: string): Map<string, string> {
  return new Map(
    [...svg.matchAll(/<g class="([^"]+)" data-node="([^"]+)"/g)].map((m) => [m[2]!, m[1]!]),
  );
}

function entry(seq: number, node: string, module: string, extra: Partial<TraceEntry>): TraceEntry {
  return {
    seq,
    node_id: node,
    module,
    kind: "action",
    status: "success",
    errors: [],
    duration_ms: 0.1,
    path: [],
    ...extra,
  };
}

Deno.test("WorkflowGraph draws nodes by kind, labelled edges and blocking marks", async () => {
  const svg = await render();
  const classes = nodeClasses(svg);
  assert.deepEqual([...classes.keys()].sort(), [
    "notify",
    "stop",
    "tlp-red",
    "trigger",
    "warn-admin",
  ]);
  assert.match(classes.get("trigger")!, /node-trigger/);
  assert.match(classes.get("tlp-red")!, /node-logic/);
  assert.match(classes.get("stop")!, /node-action blocking/);
  assert.doesNotMatch(classes.get("notify")!, /blocking/);
  const edges = [
    ...svg.matchAll(/data-from="([^"]+)" data-to="([^"]+)" data-output="(\d)">.*?<\/g>/gs),
  ]
    .map((m) =>
      [m[1], m[2], m[3], /<text[^>]*>(then|else)<\/text>/.exec(m[0])?.[1] ?? ""].join(" ")
    );
  assert.deepEqual(edges.sort(), [
    "tlp-red notify 2 else",
    "tlp-red warn-admin 1 then",
    "trigger tlp-red 1 ",
    "warn-admin stop 1 ",
  ]);
  // Left to right: every edge ends right of where it starts.
  const x = (id: string) =>
    Number(new RegExp(`data-node="${id}"[^]*?<text x="([\\d.]+)"`).exec(svg)![1]);
  assert.ok(
    x("trigger") < x("tlp-red") && x("tlp-red") < x("warn-admin") && x("warn-admin") < x("stop"),
  );
  assert.doesNotMatch(svg, /visited|faded|deciding/);
});

Deno.test("WorkflowGraph highlights a trace: visited nodes, taken edges, the deciding node", async () => {
  const svg = await render({
    entries: [
      entry(0, "trigger", "event-publish", { kind: "trigger", branch: "next" }),
      entry(1, "tlp-red", "tag-if", { kind: "logic", branch: "then", result: true }),
      entry(2, "warn-admin", "send-mail", { branch: "next", result: true }),
      entry(3, "stop", "stop-execution", { status: "failure", result: false, errors: ["stopped"] }),
    ],
    decidingNodeId: "stop",
  });
  const classes = nodeClasses(svg);
  assert.match(classes.get("stop")!, /visited deciding/);
  assert.match(classes.get("tlp-red")!, /visited/);
  assert.match(classes.get("notify")!, /faded/);
  const taken = [...svg.matchAll(/<g class="edge taken" data-from="([^"]+)" data-to="([^"]+)"/g)]
    .map((m) => `${m[1]}>${m[2]}`);
  assert.deepEqual(taken, ["trigger>tlp-red", "tlp-red>warn-admin", "warn-admin>stop"]);
  assert.match(svg, /◆ deciding/);
  assert.match(svg, /href="#trace-3"/);
});
