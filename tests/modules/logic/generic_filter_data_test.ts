import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { RoamingData } from "../../../engine/roaming_data.ts";
import { genericFilterData } from "../../../modules/logic/generic_filter_data.ts";
import { runModule } from "./harness.ts";

function attributes(): JsonObject {
  return {
    Event: {
      _AttributeFlattened: [
        { type: "ip-dst", value: "10.0.0.1" },
        { type: "domain", value: "example.test" },
        { type: "ip-src", value: "10.0.0.2" },
      ],
    },
  };
}

const values = (data: JsonObject) =>
  ((data.Event as JsonObject)._AttributeFlattened as JsonObject[]).map((item) => item.value);

Deno.test("generic-filter-data enables a filter under its label and snapshots the data once", async () => {
  const roaming = new RoamingData(attributes());
  const first = await runModule(genericFilterData, {
    "filtering-label": "A",
    selector: "Event._AttributeFlattened.{n}",
    operator: "not_equals",
    value: "domain",
    hash_path: "type",
  }, roaming);
  assert.equal(first.result, true);
  const view = roaming.getData();
  assert.deepEqual(values(view), ["10.0.0.1", "10.0.0.2"]);
  assert.deepEqual(view.enabledFilters, {
    A: {
      selector: "Event._AttributeFlattened.{n}",
      path: "type",
      operator: "not_equals",
      value: "domain",
    },
  });
  assert.deepEqual(
    view._unfilteredData,
    attributes(),
    "the snapshot is the data before any filter",
  );

  await runModule(genericFilterData, {
    "filtering-label": "B",
    selector: "Event._AttributeFlattened",
    operator: "in_or",
    value: "ignored",
    value_list: ["ip-src"],
    hash_path: "type",
  }, roaming);
  const raw = roaming.getRawData();
  assert.deepEqual(
    values(raw),
    ["10.0.0.1", "10.0.0.2"],
    "a second filter stores the filtered view as raw data (errata 29)",
  );
  assert.deepEqual(raw._unfilteredData, attributes(), "the first snapshot is kept");
  assert.deepEqual(Object.keys(raw.enabledFilters as JsonObject), ["A", "B"]);
  assert.deepEqual(
    (raw.enabledFilters as Record<string, JsonObject>).B?.value,
    ["ip-src"],
    "in_or uses value_list",
  );
  assert.deepEqual(values(roaming.getData()), ["10.0.0.2"]);
});

Deno.test("generic-filter-data defaults to label A and operator in", async () => {
  const roaming = new RoamingData({ ...attributes(), enabledFilters: [] });
  await runModule(genericFilterData, {
    selector: "Event._AttributeFlattened",
    value: "domain",
    hash_path: "type",
  }, roaming);
  assert.deepEqual(values(roaming.getData()), ["example.test"]);
  assert.deepEqual(Object.keys(roaming.getData().enabledFilters as JsonObject), ["A"]);
});
