import assert from "node:assert/strict";
import fc from "fast-check";
import type { JsonObject } from "../../engine/model.ts";
import { isCoreFormat, toCoreFormat } from "../../triggers/core_format.ts";
import { NormalizationError } from "../../triggers/normalization_error.ts";
import { randomEvent } from "../fixtures/random_event.ts";

const DATA = new URL("../../../shared/data/", import.meta.url);

async function readData(name: string): Promise<JsonObject> {
  return JSON.parse(await Deno.readTextFile(new URL(name, DATA)));
}

// deno-lint-ignore no-explicit-any
type Any = any;

Deno.test("toCoreFormat() converts the real sighting_2 event export", async (t) => {
  const raw = await readData("misp-event-pymisp-sighting_2.json");
  const before = structuredClone(raw);
  const converted: Any = toCoreFormat(raw);
  const event = converted.Event;

  await t.step("keeps only Event at the top level and does not change its input", () => {
    assert.deepEqual(Object.keys(converted), ["Event"]);
    assert.deepEqual(raw, before);
  });
  await t.step("_AttributeFlattened holds copies of the plain then object attributes", () => {
    const rawEvent = (raw as Any).Event;
    assert.equal(event._AttributeFlattened.length, rawEvent.Attribute.length + 0);
    assert.deepEqual(event._AttributeFlattened.map((a: Any) => a.id), ["1", "242460"]);
    assert.deepEqual(event._AttributeFlattened[0], event.Attribute[0]);
    assert.notEqual(event._AttributeFlattened[0], event.Attribute[0]);
  });
  await t.step("_allTags lists event tags first, inherited, then the attribute's own", () => {
    const asprox = 'misp-galaxy:botnet="Asprox"';
    assert.deepEqual(
      event.Attribute[0]._allTags.map((tag: Any) => [tag.name, tag.inherited]),
      [[asprox, true], [asprox, false]],
    );
    assert.deepEqual(
      event.Attribute[1]._allTags.map((tag: Any) => [tag.name, tag.inherited]),
      [[asprox, true]],
    );
    assert.equal("inherited" in event.Tag[0], false);
    assert.equal("inherited" in event.Attribute[0].Tag[0], false);
  });
  await t.step("keeps sightings, galaxies and non-empty cluster meta as they are", () => {
    assert.equal(event.Attribute[0].Sighting.length, 1);
    assert.deepEqual(event.Galaxy, (raw as Any).Event.Galaxy);
  });
  await t.step("is idempotent", () => {
    assert.deepEqual(toCoreFormat(converted), converted);
    assert.ok(isCoreFormat(converted));
  });
});

Deno.test("toCoreFormat() converts the real shadow-proposals event without the Event wrapper", async (t) => {
  const raw = await readData("misp-event-pymisp-shadow-proposals.json");
  const converted: Any = toCoreFormat(raw);
  const event = converted.Event;

  await t.step("wraps the event fields under Event", () => {
    assert.deepEqual(Object.keys(converted), ["Event"]);
    assert.equal(event.uuid, (raw as Any).uuid);
    assert.equal(event.Orgc.name, "CIRCL");
  });
  await t.step("flattens the plain attribute first, then the file object's attributes", () => {
    assert.equal(
      event._AttributeFlattened.length,
      event.Attribute.length + event.Object[0].Attribute.length,
    );
    assert.deepEqual(event._AttributeFlattened.map((a: Any) => a.id), [
      "811578",
      "811579",
      "811580",
    ]);
    assert.equal(event._AttributeFlattened[1].object_relation, "filename");
  });
  await t.step(
    "keeps the proposals on their attributes and gives untagged attributes empty _allTags",
    () => {
      assert.equal(event._AttributeFlattened[0].ShadowAttribute[0].value, "blah.exe.jpg");
      assert.deepEqual(event._AttributeFlattened[0]._allTags, []);
    },
  );
  await t.step("gives the same result as the wrapped form, and is idempotent", () => {
    assert.deepEqual(toCoreFormat({ Event: raw }), converted);
    assert.deepEqual(toCoreFormat(converted), converted);
  });
  await t.step("drops objects without attributes and re-indexes the list", () => {
    const withEmpty = {
      ...raw,
      Object: [{ id: "1", name: "empty", Attribute: [] }, ...(raw as Any).Object, { id: "2" }],
    };
    const result: Any = toCoreFormat(withEmpty);
    assert.deepEqual(result.Event.Object.map((o: Any) => o.id), ["2278"]);
    assert.deepEqual(toCoreFormat(result), result);
  });
});

Deno.test("toCoreFormat() converts MISP's fetchEvent shape like the export it stands for", async () => {
  const wrapped: Any = await readData("misp-event-pymisp-sighting_2.json");
  const {
    Org,
    Orgc,
    Attribute,
    Galaxy,
    Tag,
    ShadowAttribute,
    RelatedEvent,
    Object: objects,
    ...fields
  } = wrapped.Event;
  const fetched = {
    Event: { ...fields, user_id: "3" },
    Org,
    Orgc,
    Galaxy,
    ShadowAttribute,
    RelatedEvent,
    Object: objects,
    EventTag: Tag.map((tag: Any, i: number) => ({
      id: String(10 + i),
      event_id: "1",
      tag_id: tag.id,
      Tag: { ...tag, org_id: "0" },
    })),
    Attribute: Attribute.map(({ Tag: tags, ...attribute }: Any) => ({
      ...attribute,
      value1: attribute.value,
      value2: "",
      SharingGroup: [],
      ...(tags ? { AttributeTag: tags.map((tag: Any) => ({ Tag: { ...tag, org_id: "0" } })) } : {}),
    })),
  };
  const converted: Any = toCoreFormat(fetched);
  assert.equal("user_id" in converted.Event, false);
  assert.equal("value1" in converted.Event.Attribute[0], false);
  assert.equal("SharingGroup" in converted.Event.Attribute[0], false);
  assert.equal("org_id" in converted.Event.Tag[0], false);
  assert.deepEqual(converted, toCoreFormat(wrapped));
});

Deno.test("toCoreFormat() attaches top-level sightings and related attributes", () => {
  const converted: Any = toCoreFormat({
    Event: {
      id: "5",
      info: "x",
      RelatedAttribute: {
        "11": [{ id: "9", attribute_id: "90", value: "1.2.3.4", org_id: "2", info: "other" }],
      },
      Attribute: [{ id: "11", value: "1.2.3.4" }, { id: "12", value: "b" }],
      Galaxy: [{ name: "g", GalaxyCluster: [{ value: "c", meta: [] }] }],
    },
    Sighting: [{ id: "1", attribute_id: "12" }, { id: "2", attribute_id: "12" }],
  });
  const [first, second] = converted.Event.Attribute;
  assert.deepEqual(first.RelatedAttribute, [
    { id: "90", value: "1.2.3.4", org_id: "2", info: "other", event_id: "9" },
  ]);
  assert.deepEqual(second.Sighting.map((s: Any) => s.id), ["1", "2"]);
  assert.equal("RelatedAttribute" in converted.Event, false);
  assert.deepEqual(converted.Event.Galaxy[0].GalaxyCluster[0].meta, {});
  assert.deepEqual(toCoreFormat(converted), converted);
});

Deno.test("toCoreFormat() wraps attribute and object records into their event", async (t) => {
  const shadow: Any = await readData("misp-event-pymisp-shadow-proposals.json");
  const eventRow = { id: "6676", uuid: shadow.uuid, info: shadow.info, Orgc: shadow.Orgc };
  const [{ ShadowAttribute: _proposals, ...objectAttribute }] = shadow.Object[0].Attribute;
  const { Attribute: _attributes, ...objectRow } = shadow.Object[0];

  await t.step("a plain attribute goes to Event.Attribute", () => {
    const record = { Attribute: shadow.Attribute[0], Event: eventRow };
    const converted: Any = toCoreFormat(record);
    assert.deepEqual(converted.Event.Attribute.map((a: Any) => a.id), ["811578"]);
    assert.equal(converted.Event._AttributeFlattened.length, 1);
    assert.equal(converted.Event.Orgc.name, "CIRCL");
    assert.deepEqual(toCoreFormat(converted), converted);
  });
  await t.step("an object attribute with its Object goes to Event.Object", () => {
    const converted: Any = toCoreFormat({
      Attribute: objectAttribute,
      Event: eventRow,
      Object: objectRow,
    });
    assert.equal(converted.Event.Attribute, undefined);
    assert.equal(converted.Event.Object[0].name, "file");
    assert.deepEqual(converted.Event.Object[0].Attribute.map((a: Any) => a.id), ["811579"]);
    assert.deepEqual(converted.Event._AttributeFlattened.map((a: Any) => a.id), ["811579"]);
  });
  await t.step("an object attribute without its Object stays a plain attribute", () => {
    const converted: Any = toCoreFormat({ Attribute: objectAttribute, Event: eventRow });
    assert.deepEqual(converted.Event.Attribute.map((a: Any) => a.id), ["811579"]);
  });
  await t.step("event tags apply to the wrapped attribute", () => {
    const converted: Any = toCoreFormat({
      Attribute: shadow.Attribute[0],
      Event: eventRow,
      EventTag: [{ Tag: { id: "3", name: "tlp:amber", org_id: "0" } }],
    });
    assert.deepEqual(converted.Event.Tag, [{ id: "3", name: "tlp:amber" }]);
    assert.deepEqual(converted.Event._AttributeFlattened[0]._allTags, [
      { id: "3", name: "tlp:amber", inherited: true },
    ]);
  });
  await t.step("an object record goes to Event.Object, its event taken from Object.Event", () => {
    const converted: Any = toCoreFormat({ Object: { ...shadow.Object[0], Event: eventRow } });
    assert.equal(converted.Event.id, "6676");
    assert.equal("Event" in converted.Event.Object[0], false);
    assert.equal(converted.Event._AttributeFlattened.length, 2);
    assert.deepEqual(toCoreFormat(converted), converted);
  });
});

Deno.test("toCoreFormat() wraps a record without its event into the event known by event_id", () => {
  const attribute = { id: "8", "event_id": "3", "object_id": "0", type: "md5", value: "x" };
  assert.deepEqual(toCoreFormat({ Attribute: attribute }), {
    Event: {
      id: "3",
      Attribute: [{ ...attribute, _allTags: [] }],
      _AttributeFlattened: [{ ...attribute, _allTags: [] }],
    },
  });
  const object: Any = toCoreFormat({
    Object: { id: "2", "event_id": "3", Attribute: [attribute] },
  });
  assert.equal(object.Event.id, "3");
  assert.equal(object.Event.Object[0].Attribute.length, 1);
});

Deno.test("toCoreFormat() keeps top-level underscore keys such as _module", () => {
  const converted = toCoreFormat({ Event: { id: "1" }, _module: "virustotal", other: 1 });
  assert.deepEqual(converted, {
    Event: { id: "1", _AttributeFlattened: [] },
    _module: "virustotal",
  });
});

Deno.test("toCoreFormat() is idempotent on random events", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.integer({ min: 0, max: 60 }),
      (seed, n) => {
        const once = toCoreFormat(randomEvent({ attributes: n, seed }));
        assert.deepEqual(toCoreFormat(once), once);
      },
    ),
    { numRuns: 30 },
  );
});

Deno.test("toCoreFormat() throws NormalizationError on data it cannot convert", async (t) => {
  const cases: [string, unknown, string][] = [
    ["a JSON array", [1, 2], "expected a JSON object, got an array"],
    ["a string", "event", "expected a JSON object, got a string"],
    ["null", null, "expected a JSON object, got null"],
    [
      "an object with no event",
      { foo: 1, bar: 2 },
      'no "Event" object found (got keys "foo", "bar")',
    ],
    ["an empty object", {}, 'no "Event" object found (got no keys)'],
    [
      "an attribute without event or event id",
      { Attribute: { id: "1" } },
      'no "Event" object and no event id found for the attribute (got keys "Attribute")',
    ],
    [
      "an object without event or event id",
      { Object: { id: "1" } },
      'no "Event" object and no event id found for the object (got keys "Object")',
    ],
    [
      "Event.Attribute not a list",
      { Event: { Attribute: "x" } },
      '"Event.Attribute" is not a list',
    ],
    [
      "an attribute not an object",
      { Event: { Attribute: [1] } },
      '"Event.Attribute.0" is not an object',
    ],
  ];
  for (const [name, input, detail] of cases) {
    await t.step(name, () => {
      assert.throws(() => toCoreFormat(input), (error: unknown) => {
        assert.ok(error instanceof NormalizationError);
        assert.ok(error instanceof TypeError);
        assert.equal(error.name, "NormalizationError");
        assert.ok(
          error.message.startsWith(`Cannot normalise data to MISP core format: ${detail}`),
          error.message,
        );
        return true;
      });
    });
  }
});
