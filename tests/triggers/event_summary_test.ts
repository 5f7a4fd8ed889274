import assert from "node:assert/strict";
import type { JsonObject } from "../../engine/model.ts";
import { toCoreFormat } from "../../triggers/core_format.ts";
import { eventSummary } from "../../triggers/event_summary.ts";
import { randomEvent } from "../fixtures/random_event.ts";

const DATA = new URL("../../../shared/data/", import.meta.url);

async function readData(name: string): Promise<JsonObject> {
  return JSON.parse(await Deno.readTextFile(new URL(name, DATA)));
}

Deno.test("eventSummary() summarises the real sighting_2 event", async () => {
  const normalized = toCoreFormat(await readData("misp-event-pymisp-sighting_2.json"));
  assert.deepEqual(eventSummary(normalized), {
    uuid: "5c6ab833-676c-42f3-95d2-034f0a00020f",
    id: "1",
    info: "This is the description",
    orgc: "ORGNAME",
    org: "ORGNAME",
    published: false,
    timestamp: "1551253649",
    distribution: "1",
    threat_level_id: "2",
    tlp: null,
    pap: null,
    attribute_count: 2,
  });
});

Deno.test("eventSummary() counts plain and object attributes of the real shadow event", async () => {
  const normalized = toCoreFormat(await readData("misp-event-pymisp-shadow-proposals.json"));
  const summary = eventSummary(normalized);
  assert.equal(summary.attribute_count, 3);
  assert.equal(summary.orgc, "CIRCL");
});

Deno.test("eventSummary() reads TLP and PAP from event tags only, normalising their case", () => {
  const summary = eventSummary({
    Event: {
      id: 4,
      published: "1",
      Tag: [{ name: "type:OSINT" }, { name: "TLP:Amber" }, { name: "pap:red" }, {
        name: "tlp:red",
      }],
      Attribute: [{ id: "1", Tag: [{ name: "tlp:clear" }] }],
    },
  });
  assert.equal(summary.tlp, "tlp:amber");
  assert.equal(summary.pap, "PAP:RED");
  assert.equal(summary.id, "4");
  assert.equal(summary.published, true);
  assert.equal(summary.attribute_count, 1);
});

Deno.test("eventSummary() falls back to attribute_count and org ids when rows are missing", () => {
  const summary = eventSummary({
    Event: { attribute_count: "12", orgc_id: "3", org_id: "2", _AttributeFlattened: [] },
  });
  assert.equal(summary.attribute_count, 12);
  assert.equal(summary.orgc, "3");
  assert.equal(summary.org, "2");
  assert.equal(summary.info, "");
  assert.equal(summary.uuid, null);
});

Deno.test("eventSummary() reads a random event's TLP and PAP tags", () => {
  const summary = eventSummary(toCoreFormat(randomEvent({ attributes: 50, seed: 3 })));
  assert.match(summary.tlp ?? "", /^tlp:(clear|green|amber|amber\+strict|red)$/);
  assert.match(summary.pap ?? "", /^PAP:(CLEAR|GREEN|AMBER|RED)$/);
  assert.equal(summary.attribute_count, 50);
});
