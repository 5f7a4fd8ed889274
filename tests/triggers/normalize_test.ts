import assert from "node:assert/strict";
import type { JsonObject } from "../../engine/model.ts";
import { requireTrigger } from "../../triggers/catalogue.ts";
import { NormalizationError } from "../../triggers/normalize.ts";

const DATA = new URL("../../../shared/data/", import.meta.url);

async function readData(name: string): Promise<JsonObject> {
  return JSON.parse(await Deno.readTextFile(new URL(name, DATA)));
}

// deno-lint-ignore no-explicit-any
type Any = any;

function normalize(trigger: string, raw: unknown): Any {
  return requireTrigger(trigger).normalize(raw as JsonObject);
}

/** Normalises twice and checks the second pass changes nothing (MISP's `/query` case). */
function normalizeIdempotent(trigger: string, raw: unknown): Any {
  const once = normalize(trigger, raw);
  assert.deepEqual(normalize(trigger, once), once);
  return once;
}

function assertNormalizationError(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof NormalizationError);
    assert.equal(error.message, message);
    return true;
  });
}

const EVENT_TRIGGERS = [
  "event-publish",
  "event-before-save",
  "event-after-save",
  "event-after-save-new",
  "event-after-save-new-from-pull",
  "event-before-delete",
];

Deno.test("event triggers normalise both real events, wrapped or not, idempotently", async (t) => {
  const sighting = await readData("misp-event-pymisp-sighting_2.json");
  const shadow = await readData("misp-event-pymisp-shadow-proposals.json");
  for (const trigger of EVENT_TRIGGERS) {
    await t.step(trigger, () => {
      assert.equal(normalizeIdempotent(trigger, sighting).Event._AttributeFlattened.length, 2);
      const bare = normalizeIdempotent(trigger, shadow);
      assert.equal(bare.Event._AttributeFlattened.length, 3);
      assert.deepEqual(normalize(trigger, { Event: shadow }), bare);
    });
  }
});

Deno.test("event-after-save normalises quickFetchEvent data without attributes", () => {
  const normalized = normalizeIdempotent("event-after-save", {
    Event: { id: "7", info: "x", user_id: "1" },
    Orgc: { id: "1", uuid: "u", name: "CIRCL" },
    EventTag: [{
      id: "1",
      Tag: { id: "2", name: "tlp:green", colour: "#33ff00", exportable: true },
    }],
  });
  assert.deepEqual(normalized, {
    Event: {
      id: "7",
      info: "x",
      Orgc: { id: "1", uuid: "u", name: "CIRCL" },
      Tag: [{ id: "2", name: "tlp:green", colour: "#33ff00", exportable: true }],
      _AttributeFlattened: [],
    },
  });
});

Deno.test("event triggers refuse data that holds no event", async (t) => {
  await t.step("an object without Event", () => {
    assertNormalizationError(
      () => normalize("event-publish", { foo: 1, bar: 2 }),
      'Cannot normalise data for trigger "event-publish": no "Event" object found (got keys "foo", "bar")',
    );
  });
  await t.step("a JSON array", () => {
    assertNormalizationError(
      () => normalize("event-publish", [{ Event: {} }]),
      'Cannot normalise data for trigger "event-publish": expected a JSON object, got an array',
    );
  });
  await t.step("a string", () => {
    assertNormalizationError(
      () => normalize("event-before-save", "{}"),
      'Cannot normalise data for trigger "event-before-save": expected a JSON object, got a string',
    );
  });
  await t.step("the error names its trigger", () => {
    try {
      normalize("event-publish", {});
      assert.fail("normalize() did not throw");
    } catch (error) {
      assert.ok(error instanceof NormalizationError);
      assert.equal(error.trigger, "event-publish");
    }
  });
});

Deno.test("attribute-after-save wraps the fetched attribute record into its event", async () => {
  const event: Any = (await readData("misp-event-pymisp-sighting_2.json")).Event;
  const { Orgc, Attribute, id, uuid, info, distribution } = event;
  const normalized = normalizeIdempotent("attribute-after-save", {
    Attribute: Attribute[1],
    Event: { id, uuid, info, distribution, Orgc, Tag: event.Tag },
  });
  assert.deepEqual(normalized.Event.Attribute.map((a: Any) => a.id), ["242460"]);
  assert.deepEqual(normalized.Event._AttributeFlattened.map((a: Any) => a.id), ["242460"]);
  assert.deepEqual(normalized.Event._AttributeFlattened[0]._allTags.map((t: Any) => t.inherited), [
    true,
  ]);
});

Deno.test("object-after-save wraps the object into its event", async () => {
  const shadow: Any = await readData("misp-event-pymisp-shadow-proposals.json");
  const normalized = normalizeIdempotent("object-after-save", {
    Object: shadow.Object[0],
    Event: { id: "6676", info: shadow.info },
  });
  assert.equal(normalized.Event.Object.length, 1);
  assert.equal(normalized.Event._AttributeFlattened.length, 2);
});

Deno.test("enrichment-before-query keeps _module at the top level", async (t) => {
  const event: Any = (await readData("misp-event-pymisp-sighting_2.json")).Event;
  await t.step("for an attribute record", () => {
    const normalized = normalizeIdempotent("enrichment-before-query", {
      Attribute: event.Attribute[0],
      Event: { id: event.id, info: event.info, Tag: event.Tag },
      _module: "circl_passivedns",
    });
    assert.equal(normalized._module, "circl_passivedns");
    assert.deepEqual(Object.keys(normalized), ["Event", "_module"]);
    assert.equal(normalized.Event._AttributeFlattened[0]._allTags.length, 2);
  });
  await t.step("for an event holding the attribute being enriched", () => {
    const normalized = normalizeIdempotent("enrichment-before-query", {
      Event: { id: event.id },
      Attribute: [event.Attribute[1]],
      _module: "dns",
    });
    assert.equal(normalized._module, "dns");
    assert.deepEqual(normalized.Event.Attribute.map((a: Any) => a.id), ["242460"]);
  });
  await t.step("for MISP's hover query, which sends only _module", () => {
    assert.deepEqual(normalizeIdempotent("enrichment-before-query", { _module: "dns" }), {
      Event: { _AttributeFlattened: [] },
      _module: "dns",
    });
  });
});

Deno.test("tag-attached-after-save builds the tagged event without the Tag row", async (t) => {
  const event: Any = (await readData("misp-event-pymisp-sighting_2.json")).Event;
  const eventRow = { id: event.id, uuid: event.uuid, info: event.info, Tag: event.Tag };
  await t.step("an event tag with its event", () => {
    const normalized = normalizeIdempotent("tag-attached-after-save", {
      Tag: { id: "1", name: "tlp:red", event_id: "1", local: true },
      Event: eventRow,
    });
    assert.deepEqual(Object.keys(normalized), ["Event"]);
    assert.equal(normalized.Event.uuid, event.uuid);
    assert.deepEqual(normalized.Event._AttributeFlattened, []);
  });
  await t.step("an attribute tag with its attribute", () => {
    const normalized = normalizeIdempotent("tag-attached-after-save", {
      Tag: { id: "1", name: "tlp:red", event_id: "1", attribute_id: "242460" },
      Event: eventRow,
      Attribute: event.Attribute[1],
    });
    assert.deepEqual(normalized.Event._AttributeFlattened.map((a: Any) => a.id), ["242460"]);
  });
  await t.step("only the tag row: an event known by its id", () => {
    assert.deepEqual(
      normalize("tag-attached-after-save", { Tag: { name: "x", event_id: "12" } }),
      { Event: { id: "12", _AttributeFlattened: [] } },
    );
  });
  await t.step("no tag and no event", () => {
    assertNormalizationError(
      () => normalize("tag-attached-after-save", { Tag: { name: "x" } }),
      'Cannot normalise data for trigger "tag-attached-after-save": no "Event" object and no event id found (got keys "Tag")',
    );
    assertNormalizationError(
      () => normalize("tag-attached-after-save", { Event: { id: "1" } }),
      'Cannot normalise data for trigger "tag-attached-after-save": no "Tag" object found (got keys "Event")',
    );
  });
});

Deno.test("sighting-after-save builds the sighted attribute's event and drops the sighting", () => {
  const normalized = normalizeIdempotent("sighting-after-save", {
    Sighting: {
      id: "9",
      attribute_id: "11",
      event_id: "3",
      Event: { id: "3", uuid: "e", orgc_id: "1", org_id: "1", info: "x", Orgc: { name: "CIRCL" } },
      Attribute: {
        value: "1.2.3.4",
        id: "11",
        uuid: "a",
        type: "ip-dst",
        category: "Network activity",
        to_ids: true,
      },
    },
  });
  assert.deepEqual(Object.keys(normalized), ["Event"]);
  assert.equal(normalized.Event.info, "x");
  assert.deepEqual(normalized.Event._AttributeFlattened.map((a: Any) => a.value), ["1.2.3.4"]);
  assert.equal(normalized.Event._AttributeFlattened[0].Sighting, undefined);
});

Deno.test("shadow-attribute triggers place the proposal as MISP does", async (t) => {
  const shadow: Any = await readData("misp-event-pymisp-shadow-proposals.json");
  const [proposal] = shadow.Attribute[0].ShadowAttribute;
  const { ShadowAttribute: _proposals, ...attribute } = shadow.Attribute[0];
  for (const trigger of ["shadow-attribute-before-save", "shadow-attribute-after-save"]) {
    await t.step(`${trigger}: an edit proposal goes under its attribute`, () => {
      const normalized = normalizeIdempotent(trigger, {
        ShadowAttribute: proposal,
        Attribute: attribute,
        Event: { id: "6676", info: shadow.info },
      });
      const [flat] = normalized.Event._AttributeFlattened;
      assert.equal(flat.id, "811578");
      assert.deepEqual(flat.ShadowAttribute, [proposal]);
    });
    await t.step(`${trigger}: an edit proposal alone keeps the ids it carries`, () => {
      const normalized = normalizeIdempotent(trigger, { ShadowAttribute: proposal });
      assert.deepEqual(normalized.Event.id, "6676");
      assert.deepEqual(normalized.Event.uuid, proposal.event_uuid);
      assert.equal(normalized.Event._AttributeFlattened[0].id, "811578");
    });
    await t.step(`${trigger}: a new-attribute proposal goes under the event`, () => {
      const newProposal = { ...proposal, "old_id": "0" };
      const normalized = normalizeIdempotent(trigger, { ShadowAttribute: newProposal });
      assert.deepEqual(normalized.Event.ShadowAttribute, [newProposal]);
      assert.deepEqual(normalized.Event._AttributeFlattened, []);
    });
  }
});

Deno.test("event-report-after-save puts the report into its event", () => {
  const report = { id: "4", uuid: "r", "event_id": "3", name: "Report", content: "# Hi" };
  const normalized = normalizeIdempotent("event-report-after-save", {
    EventReport: report,
    Event: { id: "3", info: "x" },
  });
  assert.deepEqual(normalized.Event.EventReport, [report]);
  assertNormalizationError(
    () => normalize("event-report-after-save", { Post: {} }),
    'Cannot normalise data for trigger "event-report-after-save": no "EventReport" object found (got keys "Post")',
  );
});

Deno.test("analyst-data-after-save attaches the note to its event", () => {
  const note = {
    uuid: "n",
    "object_type": "Event",
    "object_uuid": "e-uuid",
    note: "check",
    SharingGroup: [],
  };
  const normalized = normalizeIdempotent("analyst-data-after-save", { Note: note });
  assert.deepEqual(normalized.Event, {
    uuid: "e-uuid",
    Note: [{ uuid: "n", object_type: "Event", object_uuid: "e-uuid", note: "check" }],
    _AttributeFlattened: [],
  });
  assertNormalizationError(
    () => normalize("analyst-data-after-save", { Opinion: { object_type: "User" } }),
    'Cannot normalise data for trigger "analyst-data-after-save": "Opinion.object_type" is "User", expected one of "Event", "Attribute", "Object", "EventReport"',
  );
});

Deno.test("post-after-save keeps the post, sets Thread and converts a given Event", () => {
  const post = { id: "1", "thread_id": "2", contents: "hello" };
  assert.deepEqual(normalizeIdempotent("post-after-save", { Post: post }), {
    Post: post,
    Thread: [],
  });
  const normalized = normalizeIdempotent("post-after-save", {
    Post: post,
    Thread: { id: "2", event_id: "3" },
    Event: { id: "3", info: "x", user_id: "5" },
  });
  assert.deepEqual(normalized.Event, { id: "3", info: "x", _AttributeFlattened: [] });
  assertNormalizationError(
    () => normalize("post-after-save", { Thread: {} }),
    'Cannot normalise data for trigger "post-after-save": no "Post" object found (got keys "Thread")',
  );
});

Deno.test("user and log triggers pass their data through unchanged", async (t) => {
  for (
    const [trigger, raw] of [
      ["user-before-save", { id: "3", email: "a@b.c", role_id: "1" }],
      ["user-after-save", { id: "3", email: "a@b.c" }],
      ["log-after-save", { Log: { id: "1", model: "Event", action: "add" } }],
    ] as const
  ) {
    await t.step(trigger, () => {
      assert.equal(normalize(trigger, raw), raw);
      assertNormalizationError(
        () => normalize(trigger, [raw]),
        `Cannot normalise data for trigger "${trigger}": expected a JSON object, got an array`,
      );
    });
  }
});

Deno.test("core-format triggers return data already in core format as it is", async (t) => {
  const normalized = normalize(
    "event-publish",
    await readData("misp-event-pymisp-sighting_2.json"),
  );
  // What MISP sends to /query after a filter node trimmed _AttributeFlattened.
  const filtered = {
    ...normalized,
    Event: { ...normalized.Event, _AttributeFlattened: [normalized.Event._AttributeFlattened[1]] },
    enabledFilters: { A: { selector: "Event._AttributeFlattened.{n}" } },
    _unfilteredData: normalized,
  };
  const coreTriggers = [
    ...EVENT_TRIGGERS,
    "attribute-after-save",
    "object-after-save",
    "tag-attached-after-save",
    "sighting-after-save",
    "shadow-attribute-before-save",
    "shadow-attribute-after-save",
    "event-report-after-save",
    "enrichment-before-query",
    "analyst-data-after-save",
  ];
  for (const trigger of coreTriggers) {
    await t.step(trigger, () => {
      assert.equal(requireTrigger(trigger).descriptor.misp_core_format, true);
      assert.equal(normalize(trigger, filtered), filtered);
    });
  }
});
