import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { RoamingData } from "../../../engine/roaming_data.ts";
import { filterTimestamp, resolveTimeDelta } from "../../../modules/logic/filter_timestamp.ts";
import { realEvent, runModule } from "./harness.ts";

const NOW = 1_700_000_000;

Deno.test("resolveTimeDelta() follows MISP's AppModel::resolveTimeDelta", () => {
  assert.equal(resolveTimeDelta("30d", NOW), NOW - 30 * 86_400);
  assert.equal(resolveTimeDelta("12H", NOW), NOW - 12 * 3_600);
  assert.equal(resolveTimeDelta("90m", NOW), NOW - 5_400);
  assert.equal(resolveTimeDelta("1.5d", NOW), NOW - 129_600);
  assert.equal(resolveTimeDelta("1550467205", NOW), 1_550_467_205);
  assert.equal(resolveTimeDelta("1e3", NOW), 1_000, "(int) of a numeric string");
  assert.equal(resolveTimeDelta(42, NOW), 42);
  assert.equal(resolveTimeDelta("xd", NOW), NOW + 1, "not a number before the unit");
  assert.equal(resolveTimeDelta("2024-01-02T00:00:00Z", NOW), 1_704_153_600);
  assert.equal(resolveTimeDelta("soon", NOW), NOW + 1);
  assert.equal(resolveTimeDelta("", NOW), NOW + 1);
});

Deno.test("filter-timestamp writes MISP's filters with the resolved time", async () => {
  const data = await realEvent("misp-event-pymisp-sighting_2.json");
  const roaming = new RoamingData(data);
  const run = await runModule(filterTimestamp, {}, roaming);
  assert.equal(run.result, true);
  const raw = roaming.getRawData();
  const value = -30 * 86_400; // the harness clock is at 0
  assert.deepEqual(raw.enabledFilters, {
    A: { selector: "Event._AttributeFlattened", path: "timestamp", operator: "greater", value },
    A_2: { selector: "Event.Attribute", path: "timestamp", operator: "greater", value },
  });
  assert.deepEqual(raw._unfilteredData, data);
});

Deno.test("filter-timestamp keeps no item: MISP's evaluateCondition knows no greater/less", async (t) => {
  for (const operator of ["greater", "less"]) {
    await t.step(operator, async () => {
      const roaming = new RoamingData(await realEvent("misp-event-pymisp-sighting_2.json"));
      await runModule(filterTimestamp, { operator, value: "3650d" }, roaming);
      const event = roaming.getData().Event as JsonObject;
      assert.deepEqual(event._AttributeFlattened, []);
      assert.deepEqual(event.Attribute, []);
    });
  }
});

Deno.test("filter-timestamp targets objects and event reports with one filter", async () => {
  for (
    const [target, selector] of [["object", "Event.Object"], ["event_report", "Event.EventReport"]]
  ) {
    const roaming = new RoamingData({ Event: {} });
    await runModule(filterTimestamp, { target, value: "100" }, roaming);
    assert.deepEqual(roaming.getRawData().enabledFilters, {
      A: { selector, path: "timestamp", operator: "greater", value: 100 },
    });
  }
});

Deno.test("filter-timestamp `since` needs a Unix time, else the path ends", async () => {
  const roaming = new RoamingData({ Event: {} });
  const refused = await runModule(filterTimestamp, { operator: "since", value: "7d" }, roaming);
  assert.equal(refused.result, false);
  assert.equal(roaming.getRawData().enabledFilters, undefined);
  const since = await runModule(
    filterTimestamp,
    { operator: "since", value: "1550467205" },
    roaming,
  );
  assert.equal(since.result, true);
  const filters = roaming.getRawData().enabledFilters as Record<string, JsonObject>;
  assert.equal(filters.A?.operator, "greater");
  assert.equal(filters.A?.value, 1_550_467_205);
});
