import assert from "node:assert/strict";
import { yamlLocator } from "../../engine/yaml_locate.ts";

const YAML = `name: x
trigger: event-publish
start: check
nodes:
  check:
    module: tag-if
    params:
      scope: event
      tags: [tlp:red]
    then: stop
  stop:
    module: stop-execution
`;

Deno.test("yamlLocator() finds a node's field, else the nearest enclosing key", async (t) => {
  await t.step("a written field: its key", () => {
    assert.deepEqual(yamlLocator(YAML)({ node: "check", field: "params.scope" }), {
      line: 8,
      column: 7,
    });
    assert.deepEqual(yamlLocator(YAML)({ node: "stop", field: "module" }), {
      line: 12,
      column: 5,
    });
  });
  await t.step("a missing param: the node's params; a missing node field: the node", () => {
    assert.equal(yamlLocator(YAML)({ node: "check", field: "params.condition" })?.line, 7);
    assert.equal(yamlLocator(YAML)({ node: "stop", field: "next[0]" })?.line, 11);
  });
  await t.step("a workflow field, and nothing for what the text does not hold", () => {
    assert.equal(yamlLocator(YAML)({ field: "trigger" })?.line, 2);
    assert.equal(yamlLocator(YAML)({}), undefined);
    assert.equal(yamlLocator("{not: [yaml")({ field: "trigger" }), undefined);
    assert.equal(yamlLocator(YAML)({ node: "ghost", field: "module" })?.line, 4);
  });
});
