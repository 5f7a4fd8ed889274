import assert from "node:assert/strict";
import type { JsonObject } from "../../engine/model.ts";
import {
  describePublicationChanges,
  MAX_CHANGE_LINE_CHARS,
  MAX_CHANGE_LINES,
  MAX_SNAPSHOT_TAGS,
  publicationChanges,
  publicationSnapshot,
} from "../../engine/publication_changes.ts";

const REAL_EVENT = JSON.parse(
  await Deno.readTextFile(
    new URL("../../../shared/data/misp-event-pymisp-sighting_2.json", import.meta.url),
  ),
) as JsonObject;

function attribute(id: number, timestamp: number, extra: JsonObject = {}): JsonObject {
  return {
    id: String(id),
    uuid: crypto.randomUUID(),
    category: "Network activity",
    type: "ip-dst",
    value: `203.0.113.${id % 250}`,
    to_ids: true,
    timestamp: String(timestamp),
    ...extra,
  };
}

function event(fields: JsonObject): JsonObject {
  return { Event: { uuid: "5c6d2f5a-0000-4000-8000-000000000001", info: "x", ...fields } };
}

Deno.test("publicationChanges() reads a never-published real MISP event as a first publication", () => {
  const changes = publicationChanges(REAL_EVENT);
  assert.equal(changes.basis, "first-publication");
  assert.deepEqual(changes.attributes, { added: 2, changed: 0, removed: 0 });
  assert.deepEqual(changes.tags, { added: 1, changed: 0, removed: 0 });
  assert.deepEqual(changes.lines.find((line) => line.kind === "tag"), {
    op: "added",
    kind: "tag",
    text: 'misp-galaxy:botnet="Asprox"',
  });
});

Deno.test("publicationChanges() counts only what is newer than Event.publish_timestamp", async (t) => {
  const data = event({
    publish_timestamp: "1700000000",
    Attribute: [
      attribute(1, 1_690_000_000),
      attribute(2, 1_700_000_100),
      attribute(3, 1_700_000_200, { deleted: true }),
    ],
    Object: [{
      id: "9",
      name: "file",
      "meta-category": "file",
      timestamp: "1700000300",
      Attribute: [
        attribute(4, 1_700_000_300, { object_relation: "sha256", value: "ab".repeat(32) }),
      ],
    }, { id: "8", name: "domain-ip", timestamp: "1600000000", Attribute: [] }],
  });

  await t.step("without a snapshot, new and changed are one bucket", () => {
    const changes = publicationChanges(data);
    assert.equal(changes.basis, "since-last-publication");
    assert.equal(changes.since, "2023-11-14T22:13:20.000Z");
    assert.deepEqual(changes.attributes, { added: 0, changed: 2, removed: 1 });
    assert.deepEqual(changes.objects, { added: 0, changed: 1, removed: 0 });
    assert.equal(changes.tags_compared, false);
    const text = describePublicationChanges(changes);
    assert.ok(text.includes("~2 attributes new or changed, -1 attribute removed"), text.join("\n"));
    assert.ok(text.some((line) => line.startsWith("  ~ file/sha256 abab")), text.join("\n"));
    assert.ok(
      text.includes("Event tags not compared: no earlier approved publication of this event"),
    );
  });

  await t.step("a snapshot tells added ids from changed ones and diffs the tags", () => {
    const withTags = structuredClone(data);
    (withTags.Event as JsonObject).Tag = [{ name: "tlp:amber" }, { name: "type:OSINT" }];
    const changes = publicationChanges(withTags, {
      previous: { max_attribute_id: 1, max_object_id: 8, tags: ["tlp:green", "type:OSINT"] },
    });
    assert.deepEqual(changes.attributes, { added: 2, changed: 0, removed: 1 });
    assert.deepEqual(changes.objects, { added: 1, changed: 0, removed: 0 });
    assert.deepEqual(changes.tags, { added: 1, changed: 0, removed: 1 });
    const text = describePublicationChanges(changes).join("\n");
    assert.match(text, /\+1 tag added, -1 tag removed\n {2}\+ tlp:amber\n {2}- tlp:green/);
  });
});

Deno.test("publicationChanges() stays small for a 10,000-attribute event", () => {
  const attributes = Array.from({ length: 10_000 }, (_, i) => attribute(i + 1, 1_700_000_000));
  const changes = publicationChanges(event({ publish_timestamp: "0", Attribute: attributes }));
  assert.equal(changes.attributes.added, 10_000);
  assert.equal(changes.lines.length, MAX_CHANGE_LINES);
  assert.ok(JSON.stringify(changes).length < 4_000);
  const text = describePublicationChanges(changes);
  assert.equal(text[1], `+10000 attributes added (first ${MAX_CHANGE_LINES} shown)`);
});

Deno.test("publicationChanges() cuts long values and says when publish_timestamp is missing", () => {
  const changes = publicationChanges(event({
    Attribute: [attribute(1, 5, { value: "v".repeat(5_000) })],
  }));
  assert.equal(changes.basis, "unknown");
  assert.equal(changes.lines[0]?.text.length, MAX_CHANGE_LINE_CHARS);
  assert.equal(
    describePublicationChanges(changes)[0],
    "MISP sent no usable publish_timestamp: the whole event is listed",
  );
});

Deno.test("publicationChanges() lists the whole event when publish_timestamp is not a time", () => {
  for (const stamp of ["99999999999999999", 1e300, "1e20", "soon", "", -1e17, true]) {
    const changes = publicationChanges(event({
      publish_timestamp: stamp,
      Attribute: [attribute(1, 1_700_000_000, { value: "v".repeat(1_000_000) })],
    }));
    assert.equal(changes.basis, "unknown", `publish_timestamp ${JSON.stringify(stamp)}`);
    assert.equal(changes.attributes.changed, 1);
    assert.equal(changes.lines[0]?.text.length, MAX_CHANGE_LINE_CHARS);
  }
});

Deno.test("publicationSnapshot() keeps ids and at most MAX_SNAPSHOT_TAGS tags, no values", () => {
  const tags = Array.from({ length: 80 }, (_, i) => ({ name: `tag:${i}` }));
  const snapshot = publicationSnapshot(event({
    Attribute: [attribute(7, 1), attribute(3, 1)],
    Object: [{ id: "12", Attribute: [attribute(40, 1)] }],
    Tag: tags,
  }));
  assert.equal(snapshot.max_attribute_id, 40);
  assert.equal(snapshot.max_object_id, 12);
  assert.equal(snapshot.tags.length, MAX_SNAPSHOT_TAGS);
  assert.equal(snapshot.tags_cut, true);
  assert.ok(!JSON.stringify(snapshot).includes("203.0.113"));
});
