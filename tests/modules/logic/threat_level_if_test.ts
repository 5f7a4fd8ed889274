import assert from "node:assert/strict";
import { threatLevelIf } from "../../../modules/logic/threat_level_if.ts";
import { realEvent, runModule } from "./harness.ts";

const decide = async (params: Record<string, unknown>, level: unknown = "2") =>
  (await runModule(threatLevelIf, params, { Event: { threat_level_id: level } })).result;

Deno.test("threat-level-if compares ids, a lower id being more severe", async (t) => {
  await t.step("equals and not_equals", async () => {
    assert.equal(await decide({ threatlevel: "2" }), true);
    assert.equal(await decide({ condition: "not_equals", threatlevel: "2" }), false);
  });
  await t.step("greater_or_equal_than means at least as severe (t <= s)", async () => {
    assert.equal(await decide({ condition: "greater_or_equal_than", threatlevel: "3" }), true);
    assert.equal(await decide({ condition: "greater_or_equal_than", threatlevel: "1" }), false);
  });
  await t.step("less_or_equal_than means at most as severe (t >= s)", async () => {
    assert.equal(await decide({ condition: "less_or_equal_than", threatlevel: "1" }), true);
    assert.equal(await decide({ condition: "less_or_equal_than", threatlevel: "3" }), false);
  });
  await t.step("an unknown condition is false", async () => {
    assert.equal(await decide({ condition: "in", threatlevel: "2" }), false);
  });
});

Deno.test("threat-level-if keeps MISP's 'Low' default (errata 25)", async () => {
  for (const level of ["1", "2", "3", "4"]) {
    assert.equal(await decide({ condition: "greater_or_equal_than" }, level), true);
    assert.equal(await decide({ condition: "less_or_equal_than" }, level), false);
    assert.equal(await decide({ condition: "equals" }, level), false);
    assert.equal(await decide({ condition: "not_equals" }, level), true);
  }
  const missing = await runModule(threatLevelIf, { condition: "greater_or_equal_than" }, {
    Event: {},
  });
  assert.equal(missing.result, true, "a missing threat_level_id compares as null");
});

Deno.test("threat-level-if on the real sighting_2 event (Medium)", async () => {
  const event = await realEvent("misp-event-pymisp-sighting_2.json");
  const run = await runModule(threatLevelIf, { threatlevel: "2" }, event);
  assert.equal(run.result, true);
  assert.equal(run.observed.threat_level_id, "2");
});
