import assert from "node:assert/strict";
import {
  getTrigger,
  requireTrigger,
  TRIGGERS,
  UnknownTriggerError,
} from "../../triggers/catalogue.ts";

const SECTION_4_IDS = [
  "event-publish",
  "event-before-save",
  "event-after-save",
  "event-after-save-new",
  "event-after-save-new-from-pull",
  "attribute-after-save",
  "object-after-save",
  "tag-attached-after-save",
  "sighting-after-save",
  "shadow-attribute-before-save",
  "shadow-attribute-after-save",
  "event-report-after-save",
  "enrichment-before-query",
  "user-before-save",
  "user-after-save",
  "log-after-save",
  "post-after-save",
];

Deno.test("TRIGGERS lists every trigger of reference §4 plus the two newer ones, once each", () => {
  const ids = TRIGGERS.map((t) => t.descriptor.id);
  assert.equal(TRIGGERS.length, 19);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(ids, [...SECTION_4_IDS, "event-before-delete", "analyst-data-after-save"]);
});

Deno.test("TRIGGERS descriptors carry the §4 table's flags", async (t) => {
  const rows: [string, string, string, boolean, boolean, number][] = [
    // id, name, scope, blocking, core format, overhead
    ["event-publish", "Event Publish", "event", true, true, 1],
    ["event-before-save", "Event Before Save", "event", true, true, 3],
    ["event-after-save", "Event After Save", "event", false, true, 3],
    ["sighting-after-save", "Sighting After Save", "sighting", false, true, 2],
    [
      "shadow-attribute-before-save",
      "Shadow Attribute Before Save",
      "shadow-attribute",
      true,
      true,
      2,
    ],
    ["enrichment-before-query", "Enrichment Before Query", "others", true, true, 1],
    ["user-before-save", "User Before Save", "user", true, false, 1],
    ["log-after-save", "Log After Save", "log", false, false, 3],
    ["post-after-save", "Post After Save", "post", false, false, 1],
    ["event-before-delete", "Event Before Delete", "event", true, true, 1],
    ["analyst-data-after-save", "Analyst Data After Save", "analyst-data", false, true, 1],
  ];
  for (const [id, name, scope, blocking, core, overhead] of rows) {
    await t.step(id, () => {
      const d = requireTrigger(id).descriptor;
      assert.equal(d.name, name);
      assert.equal(d.scope, scope);
      assert.equal(d.blocking, blocking);
      assert.equal(d.misp_core_format, core);
      assert.equal(d.trigger_overhead, overhead);
    });
  }
  await t.step("every trigger has no input, one output, a description and an icon", () => {
    for (const { descriptor: d } of TRIGGERS) {
      assert.equal(d.module_type, "trigger", d.id);
      assert.equal(d.inputs, 0, d.id);
      assert.equal(d.outputs, 1, d.id);
      assert.equal(d.html_template, "trigger", d.id);
      assert.match(d.description, /^This trigger is called /, d.id);
      assert.ok(d.icon.length > 0, d.id);
    }
  });
  await t.step("high-overhead triggers explain their overhead", () => {
    for (const { descriptor: d } of TRIGGERS.filter((t) => t.descriptor.trigger_overhead === 3)) {
      assert.match(d.trigger_overhead_message, /each time/, d.id);
    }
  });
});

Deno.test("TRIGGERS give params only to tag-attached-after-save, with MISP's options and defaults", () => {
  for (const { descriptor: d } of TRIGGERS) {
    if (d.id !== "tag-attached-after-save") assert.deepEqual(d.params, [], d.id);
  }
  const params = requireTrigger("tag-attached-after-save").descriptor.params;
  assert.deepEqual(params.map((p) => [p.id, p.type, p.default]), [
    ["scope", "select", "event"],
    ["locality", "select", "local"],
    ["tag", "input", undefined],
  ]);
  assert.deepEqual(params[0]?.options, { event: "Event", attribute: "Attributes", any: "Any" });
  assert.deepEqual(params[1]?.options, { local: "Local", global: "Global", any: "Any" });
});

Deno.test("accepts() is true for every trigger but tag-attached-after-save", () => {
  for (const trigger of TRIGGERS) {
    if (trigger.descriptor.id === "tag-attached-after-save") continue;
    assert.equal(trigger.accepts({}, {}), true, trigger.descriptor.id);
  }
  assert.equal(
    requireTrigger("tag-attached-after-save").accepts({ Tag: { name: "x" } }, {}),
    false,
  );
});

Deno.test("getTrigger() returns undefined and requireTrigger() throws for an unknown id", () => {
  assert.equal(getTrigger("event-publish")?.descriptor.id, "event-publish");
  assert.equal(getTrigger("event-pub"), undefined);
  assert.throws(() => requireTrigger("event-pub"), (error: unknown) => {
    assert.ok(error instanceof UnknownTriggerError);
    assert.ok(error instanceof RangeError);
    assert.equal(error.name, "UnknownTriggerError");
    assert.equal(error.id, "event-pub");
    assert.match(error.message, /^Unknown trigger "event-pub": expected one of "event-publish", /);
    assert.match(error.message, /"analyst-data-after-save"$/);
    return true;
  });
});
