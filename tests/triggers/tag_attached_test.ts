import assert from "node:assert/strict";
import { acceptsTagAttached } from "../../triggers/tag_attached.ts";

const EVENT_LOCAL = { Tag: { id: "1", name: "tlp:red", event_id: "3", local: true } };
const EVENT_GLOBAL = { Tag: { id: "1", name: "tlp:red", event_id: "3", local: 0 } };
const ATTRIBUTE_TAG = { Tag: { id: "1", name: "PAP:RED", event_id: "3", attribute_id: "8" } };

Deno.test("acceptsTagAttached() applies MISP's defaults: event scope, local tags, any name", async (t) => {
  await t.step("a local event tag passes", () => {
    assert.equal(acceptsTagAttached(EVENT_LOCAL, {}), true);
  });
  await t.step("a global event tag does not", () => {
    assert.equal(acceptsTagAttached(EVENT_GLOBAL, {}), false);
  });
  await t.step("an attribute tag does not (attribute tags never carry local)", () => {
    assert.equal(acceptsTagAttached(ATTRIBUTE_TAG, {}), false);
  });
  await t.step("null params fall back to the defaults", () => {
    assert.equal(acceptsTagAttached(EVENT_LOCAL, { scope: null, locality: null, tag: null }), true);
    assert.equal(acceptsTagAttached(EVENT_GLOBAL, { scope: null, locality: null }), false);
  });
});

Deno.test("acceptsTagAttached() checks scope against Tag.attribute_id", async (t) => {
  const params = { locality: "any" };
  await t.step("attribute scope refuses event tags and accepts attribute tags", () => {
    assert.equal(acceptsTagAttached(EVENT_LOCAL, { ...params, scope: "attribute" }), false);
    assert.equal(acceptsTagAttached(ATTRIBUTE_TAG, { ...params, scope: "attribute" }), true);
  });
  await t.step("event scope refuses attribute tags", () => {
    assert.equal(acceptsTagAttached(ATTRIBUTE_TAG, { ...params, scope: "event" }), false);
    assert.equal(acceptsTagAttached(EVENT_GLOBAL, { ...params, scope: "event" }), true);
  });
  await t.step("any scope accepts both", () => {
    assert.equal(acceptsTagAttached(EVENT_GLOBAL, { ...params, scope: "any" }), true);
    assert.equal(acceptsTagAttached(ATTRIBUTE_TAG, { ...params, scope: "any" }), true);
  });
  await t.step('attribute_id "0" counts as empty, as PHP empty() says', () => {
    const tag = { Tag: { ...ATTRIBUTE_TAG.Tag, attribute_id: "0" } };
    assert.equal(acceptsTagAttached(tag, { ...params, scope: "event" }), true);
  });
});

Deno.test("acceptsTagAttached() checks locality against Tag.local", () => {
  const params = { scope: "any" };
  assert.equal(acceptsTagAttached(EVENT_GLOBAL, { ...params, locality: "global" }), true);
  assert.equal(acceptsTagAttached(EVENT_LOCAL, { ...params, locality: "global" }), false);
  assert.equal(acceptsTagAttached(ATTRIBUTE_TAG, { ...params, locality: "global" }), true);
  assert.equal(acceptsTagAttached(EVENT_GLOBAL, { ...params, locality: "any" }), true);
});

Deno.test("acceptsTagAttached() matches the tag name when one is set", () => {
  const params = { scope: "any", locality: "any" };
  assert.equal(acceptsTagAttached(EVENT_LOCAL, { ...params, tag: "tlp:red" }), true);
  assert.equal(acceptsTagAttached(EVENT_LOCAL, { ...params, tag: "tlp:amber" }), false);
  assert.equal(acceptsTagAttached(EVENT_LOCAL, { ...params, tag: "" }), true);
  assert.equal(acceptsTagAttached({ Tag: { name: "10" } }, { ...params, tag: "1e1" }), true);
  assert.equal(acceptsTagAttached({ Tag: { id: "1" } }, { ...params, tag: "tlp:red" }), false);
});

Deno.test("acceptsTagAttached() passes MISP's roaming data (no Tag row): MISP checked it", () => {
  assert.equal(acceptsTagAttached({ Event: {} }, {}), true);
  assert.equal(acceptsTagAttached({ Event: {} }, { scope: "attribute", tag: "tlp:red" }), true);
});
