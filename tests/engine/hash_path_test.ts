import assert from "node:assert/strict";
import fc from "fast-check";
import {
  extract,
  get,
  HashPathError,
  type HashPathWarning,
  insert,
  remove,
} from "../../engine/hash_path.ts";

const DATA = new URL("../../../shared/data/", import.meta.url);

async function readJson(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(new URL(name, DATA)));
}

/** A small event with the shapes the errata talk about (ip-dst values, tags, nulls, bools). */
function richEvent(): { Event: Record<string, unknown> } {
  return {
    Event: {
      id: "1",
      info: "Rich event",
      Tag: [{ name: "tlp:red" }],
      Attribute: [
        {
          id: "10",
          type: "ip-dst",
          value: "10.0.0.1",
          comment: "",
          to_ids: true,
          object_relation: null,
          Tag: [{ name: "tlp:red" }, { name: "PAP:RED" }],
        },
        {
          id: "11",
          type: "ip-dst",
          value: "185.194.93.14",
          comment: "c2",
          to_ids: false,
          object_relation: null,
          Tag: [{ name: "tlp:green" }],
        },
        { id: "12", type: "domain", value: "", comment: "x", to_ids: true, object_relation: null },
        { id: "13", type: "text", value: "49", comment: "y", to_ids: false, object_relation: null },
        { id: "14", type: "filename", value: "blah.exe", comment: "z", to_ids: true },
      ],
      Object: [
        { name: "file", Attribute: [{ object_relation: "filename", value: "a.exe" }] },
        { name: "domain-ip", Attribute: [{ object_relation: "domain", value: "b.test" }] },
      ],
    },
  };
}

function ids(items: unknown): unknown[] {
  return (items as { id: string }[]).map((item) => item.id);
}

Deno.test("extract() follows the Hash path grammar", async (t) => {
  const event = richEvent();
  await t.step("{n} walks list items", () => {
    assert.deepEqual(extract(event, "Event.Attribute.{n}.id"), ["10", "11", "12", "13", "14"]);
  });
  await t.step("a condition filters items: Event.Attribute.{n}[type=ip-dst].value", () => {
    assert.deepEqual(extract(event, "Event.Attribute.{n}[type=ip-dst].value"), [
      "10.0.0.1",
      "185.194.93.14",
    ]);
  });
  await t.step("the in-app example {n}[name=fred].id", () => {
    const people = [
      { id: 123, name: "fred" },
      { id: 245, name: "fred" },
      { id: 356, name: "bob" },
    ];
    assert.deepEqual(extract(people, "{n}[name=fred].id"), [123, 245]);
  });
  await t.step("chained conditions are ANDed", () => {
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[type=ip-dst][to_ids=1]")), ["10"]);
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[type=ip-dst][id!=10]")), ["11"]);
  });
  await t.step("every comparison operator", () => {
    const path = (condition: string) => ids(extract(event, `Event.Attribute.{n}[${condition}]`));
    assert.deepEqual(path("id>12"), ["13", "14"]);
    assert.deepEqual(path("id>=12"), ["12", "13", "14"]);
    assert.deepEqual(path("id<12"), ["10", "11"]);
    assert.deepEqual(path("id<=12"), ["10", "11", "12"]);
    assert.deepEqual(path("id!=12"), ["10", "11", "13", "14"]);
    assert.deepEqual(path("id=012"), ["12"]);
  });
  await t.step("a presence condition needs a non-null value", () => {
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[Tag]")), ["10", "11"]);
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[comment]")).length, 5);
    assert.deepEqual(extract(event, "Event.Attribute.{n}[object_relation]"), []);
  });
  await t.step("a condition on a missing key fails, one on a null value compares null", () => {
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[object_relation!=x]")), [
      "10",
      "11",
      "12",
      "13",
    ]);
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[missing!=x]")), []);
  });
  await t.step("booleans compare as 1/0 against numbers and true/false against words", () => {
    const path = (condition: string) => ids(extract(event, `Event.Attribute.{n}[${condition}]`));
    assert.deepEqual(path("to_ids=1"), ["10", "12", "14"]);
    assert.deepEqual(path("to_ids=0"), ["11", "13"]);
    assert.deepEqual(path("to_ids=true"), ["10", "12", "14"]);
    assert.deepEqual(path("to_ids=false"), ["11", "13"]);
    assert.deepEqual(path("to_ids=yes"), []);
  });
  await t.step("{s} takes non-integer keys and {n} numeric ones, {*} all", () => {
    const data = { map: { "0": 2, a: 1, "01": 3, "1.5": 4 } };
    assert.deepEqual(extract(data, "map.{s}"), [1, 3, 4]);
    assert.deepEqual(extract(data, "map.{n}"), [2, 3, 4]);
    assert.deepEqual(extract(data, "map.{*}"), [2, 1, 3, 4]);
    assert.deepEqual(extract({ list: ["x", "y"] }, "list.{s}"), []);
  });
  await t.step("conditions keep only arrays", () => {
    const data = { list: ["scalar", { k: "v" }, null, ["nested"]] };
    assert.deepEqual(extract(data, "list.{n}[0=nested]"), [["nested"]]);
  });
  await t.step("a named token matches exactly and never an integer key", () => {
    assert.deepEqual(extract({ m: { a: 1, A: 2 } }, "{*}.a"), [1]);
    assert.deepEqual(extract({ l: [[7]] }, "l.{n}.x"), []);
  });
  await t.step("a regex condition with flags", () => {
    assert.deepEqual(extract(event, "Event.Attribute.{n}[type=/^IP-/i].value"), [
      "10.0.0.1",
      "185.194.93.14",
    ]);
    assert.deepEqual(extract(event, "Event.Attribute.{n}[value=/^1[0-9]\\./].value"), [
      "10.0.0.1",
    ]);
  });
  await t.step("a regex may contain dots without splitting the path", () => {
    assert.deepEqual(extract(event, "Event.Attribute.{n}[value=/\\.exe$/].id"), ["14"]);
  });
});

Deno.test("extract() reproduces the errata on Hash::extract", async (t) => {
  const event = richEvent();
  await t.step("errata 1: empty() paths return the data unchanged", () => {
    for (const path of ["", "0", 0, null, false, undefined]) {
      assert.equal(extract(event, path), event, String(path));
    }
  });
  await t.step("errata 2: only paths with [ are trimmed", () => {
    assert.deepEqual(extract(event, "Event. Attribute.{n}.value"), []);
    assert.deepEqual(extract(event, "Event. Attribute.{n}[type=ip-dst].value"), [
      "10.0.0.1",
      "185.194.93.14",
    ]);
    assert.deepEqual(extract(event, "Event.Attribute.{n}[type=ip-dst].value "), [
      "10.0.0.1",
      "185.194.93.14",
    ]);
  });
  await t.step("errata 3: a stray ] glues the rest of the path into one token", () => {
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[type=ip-dst]].value")), [
      "10",
      "11",
    ]);
  });
  await t.step("errata 3: an unclosed [ applies no condition at all", () => {
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[type=ip-dst.value")), [
      "10",
      "11",
      "12",
      "13",
      "14",
    ]);
  });
  await t.step("errata 4: a numeric token matches keys loosely, several at once", () => {
    const data = { list: [{ "1": "a", "01": "b", " 1": "c", "1 ": "d", x: "e" }] };
    assert.deepEqual(extract(data, "list.{n}.1"), ["a", "b", "c", "d"]);
    for (const token of ["+1", "1e0", "01", " 1", "1 "]) {
      assert.deepEqual(extract(event, `{*}.Attribute.${token}.id`), ["11"], token);
    }
  });
  await t.step("errata 4: plain paths use the exact key", () => {
    assert.deepEqual(extract(event, "Event.Attribute.00.value"), []);
    assert.deepEqual(extract(event, "Event.Attribute.1.value"), ["185.194.93.14"]);
    assert.deepEqual(extract({ m: { "1": "x" } }, "m.+1"), []);
    assert.deepEqual(extract(event, "Event.Attribute.{n}.Tag.00.name"), ["tlp:red", "tlp:green"]);
  });
  await t.step("errata 5: token paths keep nulls, plain paths drop them", () => {
    assert.deepEqual(extract(event, "Event.Attribute.{n}.object_relation"), [
      null,
      null,
      null,
      null,
    ]);
    assert.deepEqual(extract(event, "Event.Attribute.0.object_relation"), []);
  });
  await t.step(
    "errata 6: an index on a scalar is [] in plain paths, the scalar in token paths",
    () => {
      assert.deepEqual(extract(event, "Event.info.0"), []);
      assert.deepEqual(extract(event, "Event.Attribute.{n}.value.0"), [
        "10.0.0.1",
        "185.194.93.14",
        "",
        "49",
        "blah.exe",
      ]);
      assert.deepEqual(extract(event, "Event.Attribute.{n}.value.{n}").length, 5);
      assert.deepEqual(extract(event, "Event.Attribute.{n}.value.1"), []);
    },
  );
  await t.step("errata 7: [attr=] and [attr!=] apply no condition", () => {
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[comment=]")).length, 5);
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[comment!=]")).length, 5);
  });
  await t.step("errata 8: whitespace is allowed only around the operator", () => {
    const values = (condition: string) => extract(event, `Event.Attribute.{n}[${condition}].value`);
    const ipDst = ["10.0.0.1", "185.194.93.14"];
    assert.deepEqual(values("type= ip-dst"), ipDst);
    assert.deepEqual(values("type =ip-dst"), ipDst);
    assert.deepEqual(values("value= 49"), ["49"]);
    assert.deepEqual(values(" type=ip-dst"), []);
    assert.deepEqual(values("type=ip-dst "), []);
    assert.deepEqual(values(" type = ip-dst "), []);
    assert.deepEqual(values("type==ip-dst"), []);
    assert.deepEqual(extract({ l: [{ type: "=ip-dst" }] }, "l.{n}[type==ip-dst].type"), [
      "=ip-dst",
    ]);
  });
  await t.step("errata 9: only = with / delimiters is a regex", () => {
    assert.deepEqual(extract(event, "Event.Attribute.{n}[value=~^10~].value"), []);
    assert.deepEqual(extract(event, "Event.Attribute.{n}[value=#^10#].value"), []);
    assert.deepEqual(extract({ l: [{ v: "~^10~" }] }, "l.{n}[v=~^10~].v"), ["~^10~"]);
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[value!=/^10/]")).length, 5);
  });
  await t.step("errata 9: a ] in a regex works without flags, with flags it warns", () => {
    // The ] inside the regex closes the bracket early, so ".value" is glued on (errata 3).
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[value=/^bla]?h/].value")), ["14"]);
    const warnings: HashPathWarning[] = [];
    const path = "Event.Attribute.{n}[value=/^bla]?h/i].value";
    assert.deepEqual(extract(event, path, { onWarning: (w) => warnings.push(w) }), []);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.path, path);
    assert.match(
      warnings[0]?.message ?? "",
      /never matches: Cannot use regex "\/\^bla": no ending/,
    );
  });
  await t.step("errata 9: an invalid regex warns once and matches nothing", () => {
    const warnings: HashPathWarning[] = [];
    const found = extract(event, "Event.Attribute.{n}[value=/(/].value", {
      onWarning: (warning) => warnings.push(warning),
    });
    assert.deepEqual(found, []);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.cause?.name, "RegexError");
    assert.deepEqual(extract(event, "Event.Attribute.{n}[value=/(/].value"), []);
  });
  await t.step(
    "errata 9: a regex the linear-time engine cannot run warns and matches nothing",
    () => {
      const warnings: HashPathWarning[] = [];
      const path = "Event.Attribute.{n}[value=/(1)\\1/].value";
      assert.deepEqual(extract(event, path, { onWarning: (w) => warnings.push(w) }), []);
      assert.match(warnings[0]?.message ?? "", /backreferences are not supported/);
    },
  );
  await t.step("errata 9: null is matched as the empty string", () => {
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[object_relation=/^$/]")), [
      "10",
      "11",
      "12",
      "13",
    ]);
  });
  await t.step("errata 9: a regex on an array value throws HashPathError", () => {
    assert.throws(
      () => extract(event, "Event.Attribute.{n}[Tag=/red/].id"),
      (error: unknown) =>
        error instanceof HashPathError && error instanceof TypeError &&
        error.name === "HashPathError" && error.path === "Event.Attribute.{n}[Tag=/red/].id" &&
        error.message.includes('"Tag" holds an array'),
    );
  });
  await t.step("errata 10: array values pass != and >, never =", () => {
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[Tag!=x]")), ["10", "11"]);
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[Tag>x]")), ["10", "11"]);
    assert.deepEqual(ids(extract(event, "Event.Attribute.{n}[Tag=x]")), []);
  });
  await t.step("errata 11: numeric comparisons fall back to string comparison", () => {
    assert.deepEqual(extract(event, "Event.Attribute.{n}[value<50].value"), [
      "10.0.0.1",
      "185.194.93.14",
      "",
      "49",
    ]);
    assert.deepEqual(extract(event, "Event.Attribute.{n}[value>=1e1].value"), ["49", "blah.exe"]);
  });
  await t.step("errata 12: extract and get on non-array data throw HashPathError", () => {
    for (const data of ["text", 1, null, true]) {
      assert.throws(() => extract(data, "a.{n}"), HashPathError);
      assert.throws(() => get(data, "a"), HashPathError);
    }
    assert.throws(() => extract("text", ""), /Cannot extract path "": the data is string/);
  });
});

Deno.test("extract() runs the blueprint paths on the real events", async (t) => {
  const sighting = await readJson("misp-event-pymisp-sighting_2.json");
  const proposals = await readJson("misp-event-pymisp-shadow-proposals.json");
  await t.step("sighting_2: attribute values by type", () => {
    assert.deepEqual(extract(sighting, "Event.Attribute.{n}[type=target-external].value"), [
      "testvalue",
    ]);
    assert.deepEqual(extract(sighting, "Event.Attribute.{n}.type"), ["comment", "target-external"]);
  });
  await t.step("sighting_2: attribute and event tags", () => {
    assert.deepEqual(extract(sighting, "Event.Attribute.{n}.Tag.{n}.name"), [
      'misp-galaxy:botnet="Asprox"',
    ]);
    assert.deepEqual(extract(sighting, "Event.Tag.{n}.name"), ['misp-galaxy:botnet="Asprox"']);
    assert.deepEqual(
      extract(sighting, "Event.Attribute.{n}.Galaxy.{n}.GalaxyCluster.{n}[value=Asprox].tag_name"),
      ['misp-galaxy:botnet="Asprox"'],
    );
  });
  await t.step("sighting_2: deep paths and bool conditions", () => {
    assert.deepEqual(extract(sighting, "Event.Attribute.{n}.Sighting.{n}.Organisation.name"), [
      "ORGNAME",
      "ORGNAME",
    ]);
    assert.deepEqual(extract(sighting, "Event.Attribute.{n}[to_ids=1].id"), ["242460"]);
    assert.deepEqual(extract(sighting, "Event.Attribute.{n}[to_ids=false].id"), ["1"]);
  });
  await t.step("sighting_2: plain paths return containers as they are", () => {
    const event = (sighting as { Event: Record<string, unknown> }).Event;
    assert.equal(extract(sighting, "Event.Attribute"), event.Attribute);
    assert.equal(extract(sighting, "Event.Org"), event.Org);
    assert.deepEqual(extract(sighting, "Event.info"), [event.info]);
  });
  await t.step("shadow proposals: object attributes by relation and bools", () => {
    assert.deepEqual(
      extract(proposals, "Object.{n}[name=file].Attribute.{n}[object_relation=filename].value"),
      ["baz.png"],
    );
    assert.deepEqual(extract(proposals, "Object.{n}.Attribute.{n}[disable_correlation=1].value"), [
      "Malicious",
    ]);
    assert.deepEqual(extract(proposals, "Attribute.{n}.ShadowAttribute.{n}.value"), [
      "blah.exe.jpg",
    ]);
  });
  await t.step("the blueprints' enrichment paths on an enriched attribute", async () => {
    const texts = await Promise.all([
      "blueprint_set-tag-based-on-bgp-ranking-maliciousness-level_1668498668.json",
      "blueprint_curation---toggle-automation-flag-from-network-ioc-based-on-abuseipdb.json",
      "blueprint_disable-to_ids-flag-for-existing-hash-in-hashlookup_1667228944.json",
    ].map((name) => Deno.readTextFile(new URL(name, DATA))));
    const event = {
      Event: {
        _AttributeFlattened: [
          { type: "ip-dst", value: "8.8.8.8", enrichment: enrichment() },
          { type: "md5", value: "d41d8cd98f00b204e9800998ecf8427e" },
        ],
      },
    };
    const cases: [string, unknown[]][] = [
      [
        "enrichment.{n}.Object.{n}[name=bgp-ranking].Attribute.{n}[object_relation=position][value<50].type",
        ["float"],
      ],
      [
        "enrichment.{n}.Object.{n}[name=abuseipdb].Attribute.{n}[object_relation=is-malicious].type",
        ["boolean"],
      ],
      ["enrichment.{n}.Object.{n}.Attribute.{n}[object_relation=FileName].type", ["filename"]],
    ];
    for (const [path, expected] of cases) {
      assert.ok(texts.some((text) => text.includes(JSON.stringify(path))), path);
      assert.deepEqual(extract(event.Event._AttributeFlattened[0], path), expected, path);
      assert.deepEqual(extract(event.Event._AttributeFlattened[1], path), [], path);
    }
    const full =
      "Event._AttributeFlattened.{n}.enrichment.{n}.Object.{n}[name=abuseipdb].Attribute.{n}[object_relation=is-malicious].value";
    assert.ok(texts[1]?.includes(JSON.stringify(full)));
    assert.deepEqual(extract(event, full), [true]);
    assert.equal(extract(event, "Event._AttributeFlattened.{n}").length, 2);
  });
});

function enrichment(): unknown[] {
  return [{
    Object: [
      {
        name: "bgp-ranking",
        Attribute: [
          { object_relation: "position", value: "12", type: "float" },
          { object_relation: "position", value: "120", type: "text" },
          { object_relation: "asn", value: "15169", type: "AS" },
        ],
      },
      {
        name: "abuseipdb",
        Attribute: [{ object_relation: "is-malicious", value: true, type: "boolean" }],
      },
      {
        name: "hashlookup",
        Attribute: [{ object_relation: "FileName", value: "x.exe", type: "filename" }],
      },
    ],
  }];
}

Deno.test("get() follows a dotted path with isset semantics", async (t) => {
  const event = richEvent();
  await t.step("returns the value, or the fallback for missing and null", () => {
    assert.equal(get(event, "Event.Attribute.1.value"), "185.194.93.14");
    assert.equal(get(event, "Event.Attribute.0.object_relation", "none"), "none");
    assert.equal(get(event, "Event.missing"), null);
    assert.equal(get(event, "Event.info.0", "x"), "x");
  });
  await t.step("treats wildcards as literal keys and accepts key arrays", () => {
    assert.equal(get({ "{n}": { a: 1 } }, "{n}.a"), 1);
    assert.equal(get(event, ["Event", "Attribute", "0", "id"]), "10");
  });
  await t.step("empty data and a null path give the fallback", () => {
    assert.equal(get({}, "a", "fb"), "fb");
    assert.equal(get(event, null, "fb"), "fb");
  });
});

Deno.test("insert() sets values as Hash::insert does", async (t) => {
  await t.step("a plain path creates intermediates and replaces scalars on the way", () => {
    assert.deepEqual(insert({}, "a.b.c", 1), { a: { b: { c: 1 } } });
    assert.deepEqual(insert({ a: "x" }, "a.b", 1), { a: { b: 1 } });
    assert.deepEqual(insert({ a: { b: null } }, "a.b.c", [1]), { a: { b: { c: [1] } } });
  });
  await t.step("list keys append, replace, or turn the list into a map", () => {
    assert.deepEqual(insert({ l: [1, 2] }, "l.2", 3), { l: [1, 2, 3] });
    assert.deepEqual(insert({ l: [1, 2] }, "l.01", 9), { l: { "0": 1, "1": 2, "01": 9 } });
    assert.deepEqual(insert({ l: [1, 2] }, "l.5", 3), { l: { "0": 1, "1": 2, "5": 3 } });
    assert.deepEqual(insert({ l: [1] }, "l.k", 3), { l: { "0": 1, k: 3 } });
  });
  await t.step("errata 30: a scalar selector becomes the list, an empty one the key ''", () => {
    const event = richEvent();
    const updated = insert(event, "Event.id", ["1"]) as { Event: Record<string, unknown> };
    assert.deepEqual(updated.Event.id, ["1"]);
    assert.deepEqual((insert(event, "", [1]) as Record<string, unknown>)[""], [1]);
    const missing = insert(event, "Event.Missing", []) as { Event: Record<string, unknown> };
    assert.deepEqual(missing.Event.Missing, []);
  });
  await t.step("errata 30: a wildcard selector writes into every match", () => {
    const event = richEvent();
    const kept = [[{ object_relation: "filename", value: "a.exe" }]];
    const updated = insert(event, "Event.Object.{n}.Attribute", kept) as ReturnType<
      typeof richEvent
    >;
    const objects = updated.Event.Object as { Attribute: unknown }[];
    assert.deepEqual(objects.map((object) => object.Attribute), [kept, kept]);
  });
  await t.step("the last wildcard token merges into each match, conditions select", () => {
    assert.deepEqual(insert({ l: [[1], [2]] }, "l.{n}", [9]), { l: [[1, 9], [2, 9]] });
    assert.deepEqual(insert({ l: [[1], [2]] }, "l.{n}[0=1]", 9), { l: [[1, 9], [2]] });
    assert.deepEqual(insert({ l: [{ t: "a" }, { t: "b" }] }, "l.{n}[t=a]", { x: 1 }), {
      l: [{ t: "a", x: 1 }, { t: "b" }],
    });
    assert.deepEqual(insert({ l: [{ a: 1, "0": "z" }] }, "l.{n}", ["y"]), {
      l: [{ a: 1, "0": "z", "1": "y" }],
    });
    assert.deepEqual(insert({ m: { a: { k: 1 }, b: { k: 2 } } }, "m.{s}", { k: 3 }), {
      m: { a: { k: 3 }, b: { k: 3 } },
    });
  });
  await t.step("a remaining path of 0 is falsy in PHP and merges instead", () => {
    assert.deepEqual(insert({ l: [[1]] }, "l.{n}.0", [2]), { l: [[1, 2]] });
  });
  await t.step("never mutates its input and shares untouched branches", () => {
    const event = richEvent();
    const before = structuredClone(event);
    const updated = insert(event, "Event.Attribute.0.value", "changed") as ReturnType<
      typeof richEvent
    >;
    assert.deepEqual(event, before);
    assert.equal((updated.Event.Attribute as { value: string }[])[0]?.value, "changed");
    assert.equal(updated.Event.Object, event.Event.Object);
  });
  await t.step("PHP's TypeErrors become HashPathError", () => {
    assert.throws(() => insert("x", "a", 1), HashPathError);
    assert.throws(() => insert({ l: [1] }, "l.{n}[x]", [2]), /Cannot test conditions on path/);
    assert.throws(
      () => insert({ l: [1] }, "l.{n}", [2]),
      /^HashPathError: Cannot merge into path "l.{n}": the data is number, not an array or object$/,
    );
    assert.throws(() => insert({ l: ["s"] }, "l.{n}.a", 1), HashPathError);
  });
});

Deno.test("remove() unsets values as Hash::remove does", async (t) => {
  await t.step("a plain path unsets the leaf and closes list gaps", () => {
    assert.deepEqual(remove({ a: { b: 1, c: 2 } }, "a.b"), { a: { c: 2 } });
    assert.deepEqual(remove({ l: ["x", "y", "z"] }, "l.1"), { l: ["x", "z"] });
    assert.deepEqual(remove({ a: 1, b: 2 }, "a"), { b: 2 });
  });
  await t.step("a missing plain path returns the data as it is", () => {
    const data = { a: { b: 1 } };
    assert.equal(remove(data, "a.c.d"), data);
    assert.equal(remove(data, "a.b.c"), data);
  });
  await t.step("errata 31: a trailing {n} over arrays removes nothing", () => {
    const event = richEvent();
    assert.deepEqual(remove(event, "Event.Attribute.{n}"), event);
  });
  await t.step("a trailing wildcard removes scalars, and emptied arrays disappear", () => {
    assert.deepEqual(remove({ l: [1, 2], m: 1 }, "l.{n}"), { m: 1 });
    assert.deepEqual(remove({ l: [1, [2]] }, "l.{n}"), { l: [[2]] });
  });
  await t.step("conditions select what a wildcard removes", () => {
    const event = richEvent();
    const updated = remove(event, "Event.Attribute.{n}[type=ip-dst]") as ReturnType<
      typeof richEvent
    >;
    assert.deepEqual(ids(updated.Event.Attribute), ["12", "13", "14"]);
    const values = remove(event, "Event.Attribute.{n}[type=ip-dst].value") as ReturnType<
      typeof richEvent
    >;
    assert.deepEqual(extract(values, "Event.Attribute.{n}.value"), ["", "49", "blah.exe"]);
    assert.equal(ids(event.Event.Attribute).length, 5);
  });
});

function dictionary<T>(
  key: fc.Arbitrary<string>,
  value: fc.Arbitrary<T>,
): fc.Arbitrary<Record<string, T>> {
  return fc.dictionary(key, value, { noNullPrototype: true });
}

Deno.test("extract() properties", async (t) => {
  const json = fc.jsonValue({ maxDepth: 2 });
  await t.step("a.{n} returns the list's values", () => {
    fc.assert(
      fc.property(fc.array(json, { maxLength: 8 }), (list) => {
        assert.deepEqual(extract({ a: list }, "a.{n}"), list);
      }),
    );
  });
  await t.step("a plain path equals get() cast to an array", () => {
    const key = fc.constantFrom("a", "b", "0", "1");
    fc.assert(
      fc.property(dictionary(key, json), fc.array(key, { minLength: 1, maxLength: 3 }), (
        data,
        keys,
      ) => {
        fc.pre(keys.join(".") !== "0");
        const found = get(data, keys.join("."));
        const expected = found === null ? [] : typeof found === "object" ? found : [found];
        assert.deepEqual(extract(data, keys.join(".")), expected);
      }),
    );
  });
  await t.step("insert() then get() on a plain path returns the value", () => {
    const key = fc.constantFrom("a", "b", "c");
    fc.assert(
      fc.property(
        dictionary(key, json),
        fc.array(key, { minLength: 1, maxLength: 3 }),
        fc.string({ minLength: 1 }),
        (data, keys, value) => {
          const before = structuredClone(data);
          assert.equal(get(insert(data, keys.join("."), value), keys.join(".")), value);
          assert.deepEqual(data, before);
        },
      ),
    );
  });
});
