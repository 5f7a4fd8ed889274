import assert from "node:assert/strict";
import fc from "fast-check";
import {
  evaluateCondition,
  itemsMatchingCondition,
  keysMatchingCondition,
} from "../../engine/conditions.ts";
import { extract, HashPathError } from "../../engine/hash_path.ts";

const DATA = new URL("../../../shared/data/", import.meta.url);

Deno.test("evaluateCondition() implements every operator with loose comparisons", async (t) => {
  const table: [unknown, unknown, unknown, boolean][] = [
    [["a", "b"], "in", "a", true],
    [["1"], "in", 1, true],
    [["tlp:red"], "in", true, true],
    ["a", "in", "a", false],
    [[], "in", "x", false],
    [{ k: "a" }, "in", "a", true],
    [["a"], "not_in", "b", true],
    [["a"], "not_in", "a", false],
    [[], "not_in", "x", true],
    ["a", "not_in", "b", false],
    ["1", "equals", 1, true],
    ["01", "equals", "1", true],
    ["abc", "equals", "ABC", false],
    [null, "equals", "", true],
    [["1"], "equals", ["1"], false],
    ["a", "not_equals", "b", true],
    ["a", "not_equals", "a", false],
    [["a"], "not_equals", "b", false],
    [["a"], "any_value", "a", false],
    ["a", "any_value", "a", false],
    [["tlp:red", "x"], "in_or", ["tlp:red"], true],
    [["x"], "in_or", ["tlp:red"], false],
    ["tlp:red", "in_or", ["tlp:red"], false],
    [["tlp:red"], "in_or", "tlp:red", false],
    [["b", "a", "c"], "in_and", ["a", "b"], true],
    [["a"], "in_and", ["a", "b"], false],
    [["1", "2"], "in_and", [2, 1], true],
    [["x"], "not_in_or", ["a"], true],
    [["a"], "not_in_or", ["a"], false],
    [["b", "a"], "not_in_and", ["a", "b"], true],
    [["a", "b"], "not_in_and", ["a", "b"], false],
    [["a"], "not_in_and", "a", false],
    [["a"], "contains", "a", false],
  ];
  for (const [data, operator, value, expected] of table) {
    const label = `${JSON.stringify(data)} ${operator} ${JSON.stringify(value)} is ${expected}`;
    await t.step(label, () => {
      assert.equal(evaluateCondition(data, operator, value), expected);
    });
  }
  await t.step("errata 16: an empty selection flips the list operators", () => {
    const data = ["tlp:red", "tlp:green"];
    assert.equal(evaluateCondition(data, "in_and", []), true);
    assert.equal(evaluateCondition(data, "not_in_and", []), false);
    assert.equal(evaluateCondition(data, "in_or", []), false);
    assert.equal(evaluateCondition(data, "not_in_or", []), true);
  });
  await t.step("errata 17: duplicates make not_in_and true and can satisfy in_and", () => {
    assert.equal(evaluateCondition(["tlp:red", "tlp:red"], "not_in_and", ["tlp:red"]), true);
    assert.equal(evaluateCondition(["tlp:red", "tlp:red"], "in_and", ["tlp:red"]), false);
    assert.equal(
      evaluateCondition(["tlp:red", "x", "tlp:red"], "in_and", ["tlp:red", "tlp:red"]),
      true,
    );
  });
  await t.step("errata 20: operators are compared loosely, true acts as in", () => {
    assert.equal(evaluateCondition(["a"], true, "a"), true);
    assert.equal(evaluateCondition(["a"], true, "b"), false);
    assert.equal(evaluateCondition(["a"], "IN", "a"), false);
    assert.equal(evaluateCondition(["a"], 0, "a"), false);
    assert.equal(evaluateCondition(["a"], null, "a"), false);
    assert.equal(evaluateCondition(["a"], "in ", "a"), false);
  });
  await t.step("in_and sorts a copy and leaves the configured list alone", () => {
    const value = ["b", "a"];
    assert.equal(evaluateCondition(["a", "b"], "in_and", value), true);
    assert.deepEqual(value, ["b", "a"]);
  });
});

Deno.test("evaluateCondition() properties", () => {
  const tags = fc.array(fc.constantFrom("tlp:red", "tlp:green", "PAP:RED", "1", "01"), {
    maxLength: 5,
  });
  fc.assert(
    fc.property(tags, tags, (data, value) => {
      assert.equal(
        evaluateCondition(data, "in_or", value),
        !evaluateCondition(data, "not_in_or", value),
      );
    }),
  );
  fc.assert(
    fc.property(tags, fc.string(), (data, value) => {
      assert.equal(evaluateCondition(data, "in", value), !evaluateCondition(data, "not_in", value));
    }),
  );
});

function attribute(id: string, fields: Record<string, unknown>): Record<string, unknown> {
  return { id, ...fields };
}

function ids(items: unknown[]): unknown[] {
  return items.map((item) => (item as { id: string }).id);
}

Deno.test("itemsMatchingCondition() keeps items as getItemsMatchingCondition does", async (t) => {
  const attributes = [
    attribute("1", {
      type: "ip-dst",
      to_ids: true,
      Tag: [{ name: "tlp:red" }, { name: "PAP:RED" }],
    }),
    attribute("2", { type: "domain", to_ids: false, Tag: [{ name: "PAP:RED" }] }),
    attribute("3", { type: "ip-src", to_ids: false }),
  ];
  await t.step("in keeps items whose extraction contains the value", () => {
    assert.deepEqual(ids(itemsMatchingCondition(attributes, "PAP:RED", "in", "Tag.{n}.name")), [
      "1",
      "2",
    ]);
  });
  await t.step("not_in keeps the others, including those with nothing extracted", () => {
    assert.deepEqual(
      ids(itemsMatchingCondition(attributes, "tlp:red", "not_in", "Tag.{n}.name")),
      ["2", "3"],
    );
  });
  await t.step("equals and not_equals drop items with nothing extracted", () => {
    assert.deepEqual(ids(itemsMatchingCondition(attributes, "x", "not_equals", "Tag.{n}.name")), [
      "1",
      "2",
    ]);
    assert.deepEqual(ids(itemsMatchingCondition(attributes, "", "equals", "missing.{n}")), []);
  });
  await t.step("any_value keeps items with a non-empty extraction", () => {
    assert.deepEqual(ids(itemsMatchingCondition(attributes, "", "any_value", "Tag.{n}.name")), [
      "1",
      "2",
    ]);
    // A plain path gives [false] for to_ids false, and [false] is not empty.
    assert.deepEqual(ids(itemsMatchingCondition(attributes, "", "any_value", "to_ids")), [
      "1",
      "2",
      "3",
    ]);
    assert.deepEqual(ids(itemsMatchingCondition(attributes, "", "any_value", "Tag.0")), ["1", "2"]);
  });
  await t.step("list operators compare the extraction against the value list", () => {
    const network = ["ip-src", "ip-dst"];
    assert.deepEqual(ids(itemsMatchingCondition(attributes, network, "in_or", "type")), [
      "1",
      "3",
    ]);
    assert.deepEqual(
      ids(itemsMatchingCondition(attributes, ["tlp:red", "PAP:RED"], "in_and", "Tag.{n}.name")),
      ["1"],
    );
  });
  await t.step("errata 1: path 0 means no path", () => {
    assert.deepEqual(itemsMatchingCondition(["a", "b"], "a", "equals", "0"), ["a"]);
    assert.deepEqual(itemsMatchingCondition(["a", "b"], "a", "equals", null), ["a"]);
  });
  await t.step("errata 13: a scalar item with a path throws HashPathError", () => {
    assert.throws(
      () => itemsMatchingCondition([{ type: "x" }, "scalar"], "x", "equals", "type"),
      (error: unknown) =>
        error instanceof HashPathError &&
        error.message ===
          'Cannot match item "1" against path "type": the item is string, not an array or object',
    );
  });
  await t.step("errata 14: a map at the path gives sub[0] = null", () => {
    const items = [
      attribute("1", { Org: { id: "1", name: "CIRCL" }, Tag: [{ name: "tlp:red" }] }),
      attribute("2", { Org: { "0": "zero" } }),
    ];
    assert.deepEqual(ids(itemsMatchingCondition(items, "", "equals", "Org")), ["1"]);
    assert.deepEqual(ids(itemsMatchingCondition(items, null, "equals", "Tag.0")), ["1"]);
    assert.deepEqual(ids(itemsMatchingCondition(items, "zero", "equals", "Org")), ["2"]);
    assert.deepEqual(ids(itemsMatchingCondition(items, "CIRCL", "not_equals", "Org")), ["1", "2"]);
  });
  await t.step("errata 14: string items compare their first character", () => {
    assert.deepEqual(itemsMatchingCondition(["abc", "xyz", ""], "a", "equals", ""), ["abc"]);
    assert.deepEqual(itemsMatchingCondition(["abc", "0"], "0", "equals", ""), ["0"]);
    assert.deepEqual(itemsMatchingCondition(["été"], "é", "equals", ""), []);
    assert.deepEqual(itemsMatchingCondition(["été"], "é", "not_equals", ""), ["été"]);
  });
  await t.step("errata 14: int and bool items give null", () => {
    assert.deepEqual(itemsMatchingCondition([5, true, 0], null, "equals", ""), [5, true, 0]);
    assert.deepEqual(itemsMatchingCondition([5, true], 5, "equals", ""), []);
  });
  await t.step("errata 14: only the first tag counts for equals", () => {
    assert.deepEqual(ids(itemsMatchingCondition(attributes, "PAP:RED", "equals", "Tag.{n}.name")), [
      "2",
    ]);
  });
  await t.step("errata 15: true in an item matches every non-empty string", () => {
    assert.deepEqual(ids(itemsMatchingCondition(attributes, "abc", "in", "")), ["1"]);
    assert.deepEqual(ids(itemsMatchingCondition(attributes, "abc", "in", "{s}")), ["1"]);
  });
  await t.step("errata 20: an operator of true also equals equals and any_value", () => {
    // true == "equals" takes sub[0]; true == "any_value" keeps any non-empty sub[0]; an empty
    // one falls through to evaluateCondition, where true acts as "in".
    const items = [[["a"]], [["b"]], [[]], [[true]]];
    assert.deepEqual(itemsMatchingCondition(items, "a", true, "{n}"), [[["a"]], [["b"]], [[
      true,
    ]]]);
    assert.deepEqual(itemsMatchingCondition(["x", ""], "a", true, ""), ["x"]);
  });
  await t.step("maps of items give a dense list, keysMatchingCondition() their keys", () => {
    const items = { x: { type: "a" }, y: { type: "b" }, z: { type: "a" } };
    assert.deepEqual(itemsMatchingCondition(items, "a", "equals", "type"), [
      { type: "a" },
      { type: "a" },
    ]);
    assert.deepEqual(keysMatchingCondition(items, "a", "equals", "type"), ["x", "z"]);
    assert.deepEqual(keysMatchingCondition(attributes, "ip-src", "equals", "type"), [2]);
  });
  await t.step("regex warnings reach onWarning", () => {
    const warnings: string[] = [];
    const kept = itemsMatchingCondition(attributes, "", "any_value", "Tag.{n}[name=/(/].name", {
      onWarning: (warning) => warnings.push(warning.message),
    });
    assert.deepEqual(kept, []);
    assert.equal(warnings.length, 1);
  });
});

interface FilterSpec {
  readonly label: string;
  readonly selector: string;
  readonly value: unknown;
  readonly operator: string;
  readonly path: string;
}

/** Every node filter and Filter :: Generic configuration of a blueprint. */
async function blueprintFilters(name: string): Promise<FilterSpec[]> {
  const blueprint = JSON.parse(await Deno.readTextFile(new URL(name, DATA)));
  const specs: FilterSpec[] = [];
  for (const node of blueprint.WorkflowBlueprint.data) {
    const { saved_filters: saved, indexed_params: params, id } = node.data;
    if (saved?.selector) {
      specs.push({ label: `node ${node.id} ${id}`, ...saved });
    }
    if (id === "generic-filter-data") {
      specs.push({
        label: `node ${node.id} ${id}`,
        selector: params.selector,
        value: params.operator === "in_or" ? params.value_list : params.value,
        operator: params.operator,
        path: params.hash_path,
      });
    }
  }
  return specs;
}

function enrichedEvent(): Record<string, unknown> {
  const object = (name: string, attributes: Record<string, unknown>[]) => ({
    name,
    Attribute: attributes,
  });
  return {
    Event: {
      _AttributeFlattened: [
        attribute("1", {
          type: "ip-dst",
          enrichment: [{
            Object: [
              object("bgp-ranking", [{ object_relation: "position", value: "12", type: "float" }]),
              object("abuseipdb", [{ object_relation: "is-malicious", value: 1, type: "boolean" }]),
              object("hashlookup", [{ object_relation: "FileName", type: "filename" }]),
            ],
          }],
        }),
        attribute("2", {
          type: "md5",
          enrichment: [{
            Object: [object("hashlookup", [{ object_relation: "FileName", type: "filename" }])],
          }],
        }),
        attribute("3", { type: "domain" }),
        attribute("4", {
          type: "ip-src",
          enrichment: [{
            Object: [
              object("bgp-ranking", [{ object_relation: "position", value: "120", type: "float" }]),
            ],
          }],
        }),
      ],
    },
  };
}

Deno.test("itemsMatchingCondition() runs the blueprints' filters", async (t) => {
  const expectations: [string, string[][]][] = [
    ["blueprint_set-tag-based-on-bgp-ranking-maliciousness-level_1668498668.json", [["1"]]],
    [
      "blueprint_curation---toggle-automation-flag-from-network-ioc-based-on-abuseipdb.json",
      [["1"], ["1", "3", "4"]],
    ],
    [
      "blueprint_disable-to_ids-flag-for-existing-hash-in-hashlookup_1667228944.json",
      [["1", "2"], ["1", "2"]],
    ],
  ];
  for (const [name, expected] of expectations) {
    const specs = await blueprintFilters(name);
    assert.equal(specs.length, expected.length, name);
    for (const [index, spec] of specs.entries()) {
      await t.step(`${name}: ${spec.label} ${spec.operator} on ${spec.path}`, () => {
        const items = extract(enrichedEvent(), spec.selector);
        const kept = itemsMatchingCondition(items, spec.value, spec.operator, spec.path);
        assert.deepEqual(ids(kept), expected[index]);
      });
    }
  }
});
