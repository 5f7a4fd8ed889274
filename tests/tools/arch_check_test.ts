import assert from "node:assert/strict";
import {
  folderCycles,
  folderOf,
  type ImportEdge,
  layeringViolations,
  projectImports,
} from "../../tools/arch_check.ts";

const edge = (from: string, to: string): ImportEdge => ({ from, to, line: 1 });

Deno.test("layeringViolations() refuses imports that point up or across surfaces", async (t) => {
  await t.step("engine imports nothing outside itself", () => {
    const problems = layeringViolations([edge("engine/walker.ts", "modules/registry.ts")]);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /engine\/walker\.ts:1 imports modules\/registry\.ts/);
    assert.match(problems[0]!, /nothing outside itself/);
  });
  await t.step("store imports no surface", () => {
    assert.equal(layeringViolations([edge("store/runs.ts", "server/app.ts")]).length, 1);
    assert.equal(layeringViolations([edge("store/runs.ts", "bot/core.ts")]).length, 1);
  });
  await t.step("bot and server never import each other", () => {
    assert.equal(layeringViolations([edge("bot/core.ts", "server/app.ts")]).length, 1);
    assert.equal(layeringViolations([edge("server/app.ts", "bot/core.ts")]).length, 1);
  });
  await t.step("downward imports and imports inside a folder pass", () => {
    assert.deepEqual(
      layeringViolations([
        edge("server/app.ts", "services/context.ts"),
        edge("services/verdict.ts", "engine/run_workflow.ts"),
        edge("modules/action/webhook.ts", "modules/action/lib/outbound.ts"),
        edge("main.ts", "bot/chat_routes.ts"),
      ]),
      [],
    );
  });
  await t.step("a folder without a rule is reported", () => {
    assert.match(layeringViolations([edge("extra/x.ts", "engine/model.ts")])[0]!, /no layering/);
  });
});

Deno.test("folderCycles() names each cycle between folders once", () => {
  const cycles = folderCycles([
    edge("engine/a.ts", "store/b.ts"),
    edge("store/b.ts", "engine/c.ts"),
    edge("store/d.ts", "engine/a.ts"),
    edge("server/a.ts", "services/b.ts"),
  ]);
  assert.deepEqual(cycles, ["import cycle between folders: engine -> store -> engine"]);
  assert.equal(folderOf("main.ts"), "main.ts");
  assert.equal(folderOf("modules/action/lib/outbound.ts"), "modules");
});

Deno.test("the project's own imports hold the layering (deno task arch)", async () => {
  const edges = await projectImports(new URL("../../", import.meta.url));
  assert.ok(edges.length > 500, `only ${edges.length} imports found`);
  assert.deepEqual([...layeringViolations(edges), ...folderCycles(edges)], []);
});
