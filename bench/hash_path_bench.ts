/**
 * Hash path and condition throughput on a generated event of 10,000 attributes.
 *
 * @module
 */

import { extract } from "../engine/hash_path.ts";
import { itemsMatchingCondition } from "../engine/conditions.ts";

const ATTRIBUTE_COUNT = 10_000;
const TYPES = ["ip-dst", "ip-src", "domain", "md5", "url", "filename"];
const TAGS = ["tlp:red", "tlp:green", "PAP:RED", 'misp-galaxy:botnet="Asprox"'];

function generateEvent(count: number): Record<string, unknown> {
  const attributes = Array.from({ length: count }, (_, index) => ({
    id: String(100_000 + index),
    type: TYPES[index % TYPES.length],
    category: "Network activity",
    value: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
    to_ids: index % 3 === 0,
    distribution: String(index % 6),
    comment: index % 10 === 0 ? "" : `attribute ${index}`,
    object_relation: null,
    Tag: [{ id: String(index % 7), name: TAGS[index % TAGS.length] }, {
      id: "99",
      name: `custom:${index % 50}`,
    }],
  }));
  return {
    Event: { id: "1", info: "Generated", Attribute: attributes, _AttributeFlattened: attributes },
  };
}

const event = generateEvent(ATTRIBUTE_COUNT);
const attributes = extract(event, "Event._AttributeFlattened.{n}");

Deno.bench("extract Event._AttributeFlattened.{n}.Tag.{n}.name (10,000 attributes)", () => {
  extract(event, "Event._AttributeFlattened.{n}.Tag.{n}.name");
});

Deno.bench("extract Event._AttributeFlattened.{n}[type=ip-dst][to_ids=1].value", () => {
  extract(event, "Event._AttributeFlattened.{n}[type=ip-dst][to_ids=1].value");
});

Deno.bench("extract Event._AttributeFlattened.{n}[distribution<3].id", () => {
  extract(event, "Event._AttributeFlattened.{n}[distribution<3].id");
});

Deno.bench("extract Event._AttributeFlattened.{n}[value=/^10\\.0\\.1/].id (regex)", () => {
  extract(event, "Event._AttributeFlattened.{n}[value=/^10\\.0\\.1/].id");
});

Deno.bench("itemsMatchingCondition in Tag.{n}.name over 10,000 attributes", () => {
  itemsMatchingCondition(attributes, "PAP:RED", "in", "Tag.{n}.name");
});

Deno.bench("itemsMatchingCondition in_or type over 10,000 attributes", () => {
  itemsMatchingCondition(attributes, ["ip-src", "ip-dst", "domain"], "in_or", "type");
});
