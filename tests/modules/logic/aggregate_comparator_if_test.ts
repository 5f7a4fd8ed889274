import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import {
  aggregateComparatorIf,
  phpFloatval,
} from "../../../modules/logic/aggregate_comparator_if.ts";
import { runModule } from "./harness.ts";

const SCORES: JsonObject = {
  Event: {
    Attribute: [
      { value: "10" },
      { value: "2.5" },
      { value: "10" },
      { value: null },
      { value: "7 apples" },
      { value: "n/a" },
    ],
  },
};

async function aggregate(params: Record<string, unknown>, data = SCORES) {
  return await runModule(
    aggregateComparatorIf,
    { aggregation_path: "Event.Attribute.{n}.value", ...params },
    data,
  );
}

Deno.test("phpFloatval() reads a leading number as PHP 8 does", () => {
  assert.equal(phpFloatval("7 apples"), 7);
  assert.equal(phpFloatval(" .5e1x"), 5);
  assert.equal(phpFloatval("n/a"), 0);
  assert.equal(phpFloatval(true), 1);
  assert.equal(phpFloatval([]), 0);
  assert.equal(phpFloatval({ a: 1 }), 1);
});

Deno.test("aggregate_comparator_if aggregates the floats of a path, nulls dropped", async (t) => {
  const cases: [string, unknown][] = [
    ["count", 5],
    ["sum", 29.5],
    ["avg", 5.9],
    ["min", 0],
    ["max", 10],
    ["unique_count", 4],
    ["median", 7],
  ];
  for (const [type, expected] of cases) {
    await t.step(type, async () => {
      const run = await aggregate({ aggregation_type: type, operator: "equals", value: "0" });
      assert.equal(run.observed.aggregate, expected);
      assert.deepEqual(run.observed.values, [10, 2.5, 10, 7, 0]);
    });
  }
});

Deno.test("aggregate_comparator_if compares with equals/not_equals loosely", async () => {
  assert.equal(
    (await aggregate({ aggregation_type: "count", operator: "equals", value: "5" })).result,
    true,
  );
  assert.equal(
    (await aggregate({ aggregation_type: "sum", operator: "equals", value: "29.50" })).result,
    true,
  );
  assert.equal(
    (await aggregate({ aggregation_type: "sum", operator: "not_equals", value: "29.5" })).result,
    false,
  );
  assert.equal(
    (await aggregate({ aggregation_type: "max", operator: "equals", value: "ten" })).result,
    false,
  );
});

Deno.test("aggregate_comparator_if takes else for greater/less/in: MISP's evaluateCondition lacks them", async (t) => {
  for (const operator of ["greater", "greater_equals", "less", "less_equals", "in", "not_in"]) {
    await t.step(operator, async () => {
      const run = await aggregate({ aggregation_type: "count", operator, value: "1" });
      assert.equal(run.observed.aggregate, 5);
      assert.equal(run.result, false);
    });
  }
  await t.step("the defaults (count, greater) never take then", async () => {
    assert.equal((await aggregate({})).result, false);
  });
});

Deno.test("aggregate_comparator_if on a missing path and unknown aggregations", async (t) => {
  const empty = { aggregation_path: "Event.Nothing.{n}.value" };
  await t.step("count 0, sum 0, avg 0, median null", async () => {
    const count = await aggregate({ ...empty, operator: "equals", value: "0" });
    assert.equal(count.result, true);
    const avg = await aggregate({
      ...empty,
      aggregation_type: "avg",
      operator: "equals",
      value: "",
    });
    assert.equal(avg.observed.aggregate, 0);
    const median = await aggregate({
      ...empty,
      aggregation_type: "median",
      operator: "equals",
      value: "",
    });
    assert.equal(median.observed.aggregate, null);
    assert.equal(median.result, true, 'PHP: null == "" is true');
  });
  await t.step("min of nothing fails clearly (a ValueError in PHP 8)", async () => {
    await assert.rejects(
      () => aggregate({ ...empty, aggregation_type: "min" }),
      /Cannot aggregate "min" of no values/,
    );
  });
  await t.step("an unknown aggregation compares false and says so", async () => {
    const run = await aggregate({ aggregation_type: "mode", operator: "equals", value: "" });
    assert.deepEqual(run.errors, ["Unknown aggregation type: mode"]);
    assert.equal(run.observed.aggregate, false);
    assert.equal(run.result, true, 'PHP: false == "" is true');
  });
});
