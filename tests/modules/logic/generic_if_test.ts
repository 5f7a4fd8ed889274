import assert from "node:assert/strict";
import { genericIf } from "../../../modules/logic/generic_if.ts";
import { realEvent, runModule } from "./harness.ts";

const people = {
  people: [{ name: "fred" }, { name: "fred" }, { name: "joe" }],
  boss: { name: "ann" },
};
const decide = async (params: Record<string, unknown>, data: Record<string, unknown> = people) =>
  (await runModule(genericIf, params, data)).result;

Deno.test("generic-if evaluates every operator as MISP does", async (t) => {
  await t.step("in (the in-app documentation example)", async () => {
    assert.equal(
      await decide({ value: "fred", operator: "in", hash_path: "people.{n}.name" }),
      true,
    );
    assert.equal(
      await decide({ value: "bob", operator: "in", hash_path: "people.{n}.name" }),
      false,
    );
  });
  await t.step("in is the default operator", async () => {
    assert.equal(await decide({ value: "joe", hash_path: "people.{n}.name" }), true);
  });
  await t.step("not_in, including over nothing", async () => {
    assert.equal(
      await decide({ value: "bob", operator: "not_in", hash_path: "people.{n}.name" }),
      true,
    );
    assert.equal(
      await decide({ value: "joe", operator: "not_in", hash_path: "people.{n}.name" }),
      false,
    );
    assert.equal(
      await decide({ value: "x", operator: "not_in", hash_path: "nobody.{n}.name" }),
      true,
    );
  });
  await t.step("equals / not_equals on a plain path", async () => {
    assert.equal(await decide({ value: "ann", operator: "equals", hash_path: "boss.name" }), true);
    assert.equal(
      await decide({ value: "bob", operator: "not_equals", hash_path: "boss.name" }),
      true,
    );
  });
  await t.step(
    "equals / not_equals are both false on a missing path or a {n} path (errata §12.7)",
    async () => {
      for (const operator of ["equals", "not_equals"]) {
        assert.equal(await decide({ value: "ann", operator, hash_path: "boss.missing" }), false);
        assert.equal(
          await decide({ value: "fred", operator, hash_path: "people.{n}.name" }),
          false,
        );
      }
    },
  );
  await t.step("any_value: true when something is extracted", async () => {
    assert.equal(await decide({ operator: "any_value", hash_path: "people.{n}.name" }), true);
    assert.equal(await decide({ operator: "any_value", hash_path: "nobody.{n}" }), false);
  });
  await t.step("in_or uses value_list", async () => {
    assert.equal(
      await decide({ value_list: ["bob", "joe"], operator: "in_or", hash_path: "people.{n}.name" }),
      true,
    );
    assert.equal(
      await decide({ value: "joe", operator: "in_or", hash_path: "people.{n}.name" }),
      false,
    );
  });
  await t.step("an unknown operator is false", async () => {
    assert.equal(
      await decide({ value: "fred", operator: "contains", hash_path: "people.{n}.name" }),
      false,
    );
  });
});

Deno.test("generic-if compares loosely: true matches every non-empty string (errata 15)", async () => {
  const data = { Attribute: [{ to_ids: true }] };
  assert.equal(
    await decide({ value: "abc", operator: "in", hash_path: "Attribute.{n}.to_ids" }, data),
    true,
  );
  assert.equal(
    await decide({ value: "abc", operator: "not_in", hash_path: "Attribute.{n}.to_ids" }, data),
    false,
  );
  assert.equal(
    await decide({ value: "01", operator: "in", hash_path: "Attribute.{n}.n" }, {
      Attribute: [{ n: 1 }],
    }),
    true,
  );
});

Deno.test("generic-if on a real event with a conditional hash path", async () => {
  const event = await realEvent("misp-event-pymisp-sighting_2.json");
  const run = await runModule(genericIf, {
    value: "target-external",
    operator: "in",
    hash_path: "Event._AttributeFlattened.{n}[distribution=2].type",
  }, event);
  assert.equal(run.result, true);
  assert.deepEqual(run.observed.extracted, ["target-external"]);
});
