import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { RoamingData } from "../../../engine/roaming_data.ts";
import { filterTag } from "../../../modules/logic/filter_tag.ts";
import { realEvent, runModule } from "./harness.ts";

const ASPROX = 'misp-galaxy:botnet="Asprox"';
const SIGHTING = "misp-event-pymisp-sighting_2.json";

function ids(data: JsonObject, key = "_AttributeFlattened"): string[] {
  return ((data.Event as JsonObject)[key] as JsonObject[]).map((item) => String(item.id));
}

Deno.test("filter-tag declares MISP's 0.3 params and defaults", () => {
  const params = Object.fromEntries(
    filterTag.descriptor.params.map((param) => [param.id, param.default ?? null]),
  );
  assert.deepEqual(params, {
    "filtering-label": "A",
    scope: "event_attribute",
    condition: "in_or",
    tags: null,
    clusters: null,
  });
  assert.equal(filterTag.descriptor.outputs, 1);
});

Deno.test("filter-tag keeps the attributes tagged (own tags) in both attribute views", async () => {
  const roaming = new RoamingData(await realEvent(SIGHTING));
  const run = await runModule(filterTag, { scope: "attribute", tags: [ASPROX] }, roaming);
  assert.equal(run.result, true);
  const view = roaming.getData();
  assert.deepEqual(ids(view), ["1"]);
  assert.deepEqual(ids(view, "Attribute"), ["1"]);
  assert.deepEqual(view.enabledFilters, {
    A: {
      selector: "Event._AttributeFlattened",
      path: "Tag.{n}.name",
      operator: "in_or",
      value: [ASPROX],
    },
    A_2: { selector: "Event.Attribute", path: "Tag.{n}.name", operator: "in_or", value: [ASPROX] },
  });
  assert.deepEqual(ids(view._unfilteredData as JsonObject), ["1", "242460"]);
});

Deno.test("filter-tag inherited scope matches the event's tags through _allTags", async (t) => {
  await t.step("the default scope with a cluster picked", async () => {
    const roaming = new RoamingData(await realEvent(SIGHTING));
    await runModule(filterTag, { clusters: ['botnet="Asprox"'] }, roaming);
    const view = roaming.getData();
    assert.deepEqual(ids(view), ["1", "242460"]);
    const filters = view.enabledFilters as Record<string, JsonObject>;
    assert.equal(filters.A?.path, "_allTags.{n}.name");
    assert.deepEqual(filters.A?.value, [ASPROX]);
  });
  await t.step("not_in_or drops them all", async () => {
    const roaming = new RoamingData(await realEvent(SIGHTING));
    await runModule(filterTag, { condition: "not_in_or", tags: [ASPROX], clusters: "" }, roaming);
    assert.deepEqual(ids(roaming.getData()), []);
  });
  await t.step("in_and needs every tag", async () => {
    const roaming = new RoamingData(await realEvent(SIGHTING));
    await runModule(filterTag, { condition: "in_and", tags: [ASPROX, "tlp:red"] }, roaming);
    assert.deepEqual(ids(roaming.getData()), []);
  });
});

Deno.test("filter-tag with MISP 0.2's stored scope `event` only snapshots the data (MISP's 0.3 bug)", async () => {
  const data = await realEvent(SIGHTING);
  const roaming = new RoamingData(data);
  const run = await runModule(filterTag, { scope: "event", tags: ["tlp:red"] }, roaming);
  assert.equal(run.result, true);
  const view = roaming.getData();
  assert.deepEqual(ids(view), ["1", "242460"]);
  assert.deepEqual(view.enabledFilters, {});
  assert.deepEqual(view._unfilteredData, data);
});

Deno.test("filter-tag filters event reports, own or inherited tags", async () => {
  const data: JsonObject = {
    Event: {
      EventReport: [
        { id: "1", Tag: [{ name: "tlp:red" }], _allTags: [{ name: "tlp:red" }] },
        { id: "2", Tag: [], _allTags: [{ name: "tlp:green" }] },
      ],
    },
  };
  const own = new RoamingData(data);
  await runModule(filterTag, { scope: "event_report", tags: ["tlp:red"] }, own);
  assert.deepEqual(ids(own.getData(), "EventReport"), ["1"]);
  const inherited = new RoamingData(data);
  await runModule(filterTag, { scope: "inherited_report", tags: ["tlp:green"] }, inherited);
  assert.deepEqual(ids(inherited.getData(), "EventReport"), ["2"]);
  assert.deepEqual(Object.keys(inherited.getData().enabledFilters as JsonObject), ["A"]);
});

Deno.test("filter-tag fails clearly on a single tag string (PHP's array_merge TypeError)", async () => {
  await assert.rejects(
    () => runModule(filterTag, { tags: "tlp:red" }, { Event: {} }),
    /Param "tags" must be a list of tag names, got "tlp:red"/,
  );
});
