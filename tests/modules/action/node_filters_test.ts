import assert from "node:assert/strict";
import type { JsonObject, WorkflowNode } from "../../../engine/model.ts";
import {
  filtersEnabled,
  getFilters,
  matchingItemsForAttributes,
  matchingItemsForScope,
  overrideAttribute,
} from "../../../modules/action/lib/node_filters.ts";
import { coreFormat, proposalsEvent, sightingEvent } from "./misp_test_context.ts";

function nodeWith(filters?: WorkflowNode["filters"]): WorkflowNode {
  return { id: "2", module: "tag_operation", kind: "action", params: {}, next: [[]], filters };
}

const ATTRIBUTES_BY_TYPE = {
  selector: "Event._AttributeFlattened.{n}",
  value: "comment",
  operator: "equals",
  path: "type",
};

Deno.test("filtersEnabled() is true when any of the four strings is set", () => {
  assert.equal(filtersEnabled(nodeWith()), false);
  assert.equal(
    filtersEnabled(nodeWith({ selector: "", value: "", operator: "", path: "" })),
    false,
  );
  assert.equal(
    filtersEnabled(nodeWith({ selector: "", value: "", operator: "in", path: "" })),
    true,
  );
  assert.deepEqual(getFilters(nodeWith()), { selector: "", value: "", operator: "", path: "" });
});

Deno.test("matchingItemsForAttributes() selects attributes of the real sighting_2 event", async (t) => {
  const data = coreFormat(await sightingEvent());

  await t.step("every flattened attribute without filters", () => {
    const items = matchingItemsForAttributes(nodeWith(), data);
    assert.deepEqual(items?.map((item) => item.id), ["1", "242460"]);
  });

  await t.step("the attributes whose condition holds with filters", () => {
    const items = matchingItemsForAttributes(nodeWith(ATTRIBUTES_BY_TYPE), data);
    assert.deepEqual(items?.map((item) => item.id), ["1"]);
  });

  await t.step("attributes carrying a tag, through _allTags", () => {
    const items = matchingItemsForAttributes(
      nodeWith({
        selector: "Event._AttributeFlattened.{n}",
        value: 'misp-galaxy:botnet="Asprox"',
        operator: "in",
        path: "Tag.{n}.name",
      }),
      data,
    );
    assert.deepEqual(items?.map((item) => item.id), ["1"]);
  });
});

Deno.test("matchingItemsForScope() makes the Event the one item for event scope", async () => {
  const data = coreFormat(await sightingEvent());
  const event = data.Event as JsonObject;
  const unfiltered = matchingItemsForScope(nodeWith(), data, "event");
  assert.deepEqual(unfiltered, [event]);
  const kept = matchingItemsForScope(
    nodeWith({ selector: "", value: "2", operator: "equals", path: "threat_level_id" }),
    data,
    "event",
  );
  assert.equal(kept?.length, 1);
  const dropped = matchingItemsForScope(
    nodeWith({ selector: "", value: "4", operator: "equals", path: "threat_level_id" }),
    data,
    "event",
  );
  assert.deepEqual(dropped, []);
});

Deno.test("overrideAttribute() replaces an object attribute in both views, not the input", async () => {
  const data = coreFormat(await proposalsEvent());
  const event = data.Event as JsonObject;
  const flattened = event._AttributeFlattened as JsonObject[];
  const old = flattened.find((attribute) => attribute.id === "811579");
  assert.ok(old);
  const replaced = overrideAttribute(data, old, { ...old, comment: "checked" });
  const next = replaced.Event as JsonObject;
  const nextFlattened = next._AttributeFlattened as JsonObject[];
  assert.equal(nextFlattened.find((attribute) => attribute.id === "811579")?.comment, "checked");
  const objects = next.Object as { Attribute: JsonObject[] }[];
  const inObject = objects.flatMap((object) => object.Attribute).find((a) => a.id === "811579");
  assert.equal(inObject?.comment, "checked");
  assert.equal(
    (next.Attribute as JsonObject[]).some((attribute) => attribute.comment === "checked"),
    false,
  );
  assert.notEqual(old.comment, "checked");
  assert.equal(
    flattened.find((attribute) => attribute.id === "811579")?.comment,
    old.comment,
  );
});
