import assert from "node:assert/strict";
import { applyFilter, enabledFilters, RoamingData } from "../../engine/roaming_data.ts";
import type { JsonObject } from "../../engine/model.ts";

function eventData(): JsonObject {
  return {
    Event: {
      id: "1",
      _AttributeFlattened: [
        { type: "ip-dst", value: "10.0.0.1", Tag: [{ name: "tlp:red" }] },
        { type: "domain", value: "example.test", Tag: [{ name: "tlp:green" }] },
        { type: "ip-src", value: "10.0.0.2", Tag: [] },
      ],
    },
  };
}

Deno.test("RoamingData.getData() returns the data itself while no filter is enabled", () => {
  const data = eventData();
  const roaming = new RoamingData(data);
  assert.equal(roaming.getData(), data);
  const empty = { ...data, enabledFilters: [] };
  roaming.setData(empty);
  assert.equal(roaming.getData(), empty, "an empty enabledFilters list means no filter");
});

Deno.test("RoamingData.getData() filters once and caches the view until setData", () => {
  const data: JsonObject = {
    ...eventData(),
    enabledFilters: {
      A: {
        selector: "Event._AttributeFlattened.{n}",
        path: "type",
        operator: "not_equals",
        value: "domain",
      },
    },
  };
  const roaming = new RoamingData(data);
  const view = roaming.getData();
  assert.equal(roaming.getData(), view, "same object: not filtered again");
  const attributes = (view.Event as JsonObject)._AttributeFlattened as JsonObject[];
  assert.deepEqual(attributes.map((attribute) => attribute.value), ["10.0.0.1", "10.0.0.2"]);
  assert.equal(
    ((data.Event as JsonObject)._AttributeFlattened as unknown[]).length,
    3,
    "the unfiltered data is not changed",
  );
  assert.equal(roaming.getRawData(), data);
  roaming.setData(eventData());
  assert.notEqual(roaming.getData(), view);
  assert.equal(
    ((roaming.getData().Event as JsonObject)._AttributeFlattened as unknown[]).length,
    3,
  );
});

Deno.test("RoamingData.getData() applies filters in key order, each on the previous result", () => {
  const data: JsonObject = {
    ...eventData(),
    enabledFilters: {
      B: {
        selector: "Event._AttributeFlattened",
        path: "type",
        operator: "in_or",
        value: ["ip-dst", "ip-src"],
      },
      A: {
        selector: "Event._AttributeFlattened.{n}",
        path: "Tag.{n}.name",
        operator: "not_in",
        value: "tlp:red",
      },
    },
  };
  const attributes = (new RoamingData(data).getData().Event as JsonObject)
    ._AttributeFlattened as JsonObject[];
  assert.deepEqual(attributes.map((attribute) => attribute.value), ["10.0.0.2"]);
  assert.deepEqual(enabledFilters(data).map(([label]) => label), ["B", "A"]);
});

Deno.test("applyFilter() reproduces MISP's odd selectors (errata 30)", async (t) => {
  await t.step("a scalar selector turns the scalar into a list", () => {
    const filtered = applyFilter(eventData(), {
      selector: "Event.id",
      path: "",
      operator: "any_value",
      value: "",
    });
    assert.deepEqual((filtered.Event as JsonObject).id, ["1"]);
  });
  await t.step("a missing selector creates an empty list at that path", () => {
    const filtered = applyFilter(eventData(), {
      selector: "Event.Nothing",
      path: "",
      operator: "in",
      value: "x",
    });
    assert.deepEqual((filtered.Event as JsonObject).Nothing, []);
  });
});
