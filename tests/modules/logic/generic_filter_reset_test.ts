import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { RoamingData } from "../../../engine/roaming_data.ts";
import { genericFilterData } from "../../../modules/logic/generic_filter_data.ts";
import { genericFilterReset } from "../../../modules/logic/generic_filter_reset.ts";
import { runModule } from "./harness.ts";

async function filtered(): Promise<RoamingData> {
  const roaming = new RoamingData({ Event: { Tag: [{ name: "a" }, { name: "b" }] } });
  for (const [label, value] of [["A", "a"], ["B", "b"]]) {
    await runModule(genericFilterData, {
      "filtering-label": label,
      selector: "Event.Tag.{n}",
      operator: "not_equals",
      value,
      hash_path: "name",
    }, roaming);
  }
  roaming.setData({ ...roaming.getRawData(), enriched: true });
  return roaming;
}

Deno.test("generic-filter-reset goes back to the data before the first filter", async (t) => {
  for (const label of ["all", "A", "B", "Z"]) {
    await t.step(`label ${label} drops every filter and later changes (errata 29)`, async () => {
      const roaming = await filtered();
      assert.deepEqual((roaming.getData().Event as JsonObject).Tag, []);
      const run = await runModule(genericFilterReset, { "filtering-label": label }, roaming);
      assert.equal(run.result, true);
      const data = roaming.getData();
      assert.deepEqual((data.Event as JsonObject).Tag, [{ name: "a" }, { name: "b" }]);
      assert.equal("enriched" in data, false);
      assert.equal("_unfilteredData" in data, false);
      assert.deepEqual(Object.keys(data.enabledFilters as JsonObject ?? {}), []);
    });
  }
});

Deno.test("generic-filter-reset without a preceding filter", async (t) => {
  await t.step("label all wipes the data to {enabledFilters: []}", async () => {
    const roaming = new RoamingData({ Event: { id: "1" } });
    await runModule(genericFilterReset, {}, roaming);
    assert.deepEqual(roaming.getData(), { enabledFilters: [] });
  });
  await t.step("a single label fails clearly (PHP TypeError) and leaves the data", async () => {
    const roaming = new RoamingData({ Event: { id: "1" } });
    await assert.rejects(
      async () => await runModule(genericFilterReset, { "filtering-label": "A" }, roaming),
      /Cannot remove filter "A": no filter was enabled before this node/,
    );
    assert.deepEqual(roaming.getData(), { Event: { id: "1" } });
  });
});
