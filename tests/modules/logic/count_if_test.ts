import assert from "node:assert/strict";
import { countIf } from "../../../modules/logic/count_if.ts";
import { realEvent, runModule } from "./harness.ts";

const data = { Event: { Tag: [{ name: "a" }, { name: "b" }, { name: "c" }], info: "x" } };
const decide = async (params: Record<string, unknown>, input: Record<string, unknown> = data) =>
  (await runModule(countIf, params, input)).result;

Deno.test("count-if compares the count with every operator", async (t) => {
  const selector = "Event.Tag.{n}.name";
  const cases: [string, string, boolean][] = [
    ["equals", "3", true],
    ["equals", "2", false],
    ["not_equals", "2", true],
    ["greater", "2", true],
    ["greater", "3", false],
    ["greater_equals", "3", true],
    ["less", "4", true],
    ["less", "3", false],
    ["less_equals", "3", true],
    ["less_equals", "2", false],
    ["between", "3", false],
  ];
  for (const [operator, value, expected] of cases) {
    await t.step(`${operator} ${value}`, async () => {
      assert.equal(await decide({ selector, operator, value }), expected);
    });
  }
  await t.step(
    "operators compare loosely: a JSON true operator acts as equals (errata 20)",
    async () => {
      assert.equal(await decide({ selector, operator: true, value: "3" }), true);
    },
  );
  await t.step("equals is the default operator", async () => {
    assert.equal(await decide({ selector, value: "3" }), true);
  });
});

Deno.test("count-if counts as Hash::extract returns (errata 1)", async (t) => {
  await t.step("a plain path to a scalar counts 1, a missing one 0", async () => {
    assert.equal(await decide({ selector: "Event.info", value: "1" }), true);
    assert.equal(await decide({ selector: "Event.nothing", value: "0" }), true);
  });
  await t.step('an empty selector or "0" counts the top-level keys', async () => {
    const input = { a: 1, b: 2 };
    assert.equal(await decide({ selector: "", value: "2" }, input), true);
    assert.equal(await decide({ selector: "0", value: "2" }, input), true);
  });
});

Deno.test("count-if uses PHP 8 comparisons (errata 26)", async (t) => {
  const selector = "Event.nothing.{n}";
  await t.step(
    "an empty value: greater and greater_equals are true when nothing matched",
    async () => {
      assert.equal(await decide({ selector, operator: "greater", value: "" }), true);
      assert.equal(await decide({ selector, operator: "greater_equals", value: "" }), true);
      assert.equal(await decide({ selector: "Event.Tag.{n}", operator: "greater" }), true);
    },
  );
  await t.step("non-numeric values compare as strings", async () => {
    assert.equal(
      await decide({ selector: "Event.Tag.{n}", operator: "greater", value: "2abc" }),
      true,
    );
    assert.equal(await decide({ selector: "Event.Tag.{n}", operator: "less", value: "abc" }), true);
  });
});

Deno.test("count-if on the real sighting_2 event", async () => {
  const event = await realEvent("misp-event-pymisp-sighting_2.json");
  const run = await runModule(countIf, {
    selector: "Event._AttributeFlattened.{n}",
    operator: "equals",
    value: "2",
  }, event);
  assert.equal(run.result, true);
  assert.equal(run.observed.count, 2);
});
