import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { distributionIf } from "../../../modules/logic/distribution_if.ts";
import { realEvent, runModule } from "./harness.ts";

function event(
  distribution: unknown,
  attributes: JsonObject[] = [],
  extra: JsonObject = {},
): JsonObject {
  return {
    Event: { distribution, Attribute: attributes, _AttributeFlattened: attributes, ...extra },
  };
}

const decide = async (params: Record<string, unknown>, data: JsonObject) =>
  (await runModule(distributionIf, params, data)).result;

Deno.test("distribution-if propagates the distribution of Event.Attribute[0] (scope attribute)", async (t) => {
  await t.step("attribute 5 (inherit) takes the event's level", async () => {
    const run = await runModule(
      distributionIf,
      { distribution: "1" },
      event("1", [{ distribution: "5" }]),
    );
    assert.equal(run.observed.final_distribution, 1);
    assert.equal(run.result, true);
  });
  await t.step("the most restrictive of event and attribute wins", async () => {
    const data = event("3", [{ distribution: "2" }]);
    assert.equal(await decide({ condition: "equals", distribution: "2" }, data), true);
    assert.equal(await decide({ condition: "not_equals", distribution: "3" }, data), true);
  });
  await t.step("only Event.Attribute[0] counts", async () => {
    const data = event("3", [{ distribution: "3" }, { distribution: "0" }]);
    assert.equal(await decide({ distribution: "3" }, data), true);
  });
  await t.step("more_restrictive_or_equal_than and more_permisive_or_equal_than", async () => {
    const data = event("3", [{ distribution: "1" }]);
    assert.equal(
      await decide({ condition: "more_restrictive_or_equal_than", distribution: "2" }, data),
      true,
    );
    assert.equal(
      await decide({ condition: "more_restrictive_or_equal_than", distribution: "0" }, data),
      false,
    );
    assert.equal(
      await decide({ condition: "more_permisive_or_equal_than", distribution: "1" }, data),
      true,
    );
    assert.equal(
      await decide({ condition: "more_permisive_or_equal_than", distribution: "2" }, data),
      false,
    );
  });
  await t.step("non-numeric and null distributions become 0 (errata 24)", async () => {
    assert.equal(await decide({ distribution: "0" }, event("abc", [{ distribution: "3" }])), true);
    assert.equal(await decide({ distribution: "0" }, event("3", [{ distribution: null }])), true);
  });
  await t.step("an unknown operator is false", async () => {
    assert.equal(
      await decide({ condition: "in", distribution: "1" }, event("1", [{ distribution: "1" }])),
      false,
    );
  });
});

Deno.test("distribution-if scope event ignores attributes", async () => {
  const data = event("2", [{ distribution: "0" }]);
  assert.equal(await decide({ scope: "event", distribution: "2" }, data), true);
  const run = await runModule(distributionIf, { scope: "event", distribution: "0" }, event("2"));
  assert.equal(run.result, false, "no attribute needed for levels 0-3");
});

Deno.test("distribution-if sharing group branch (errata 21, 22)", async (t) => {
  const sg = (level: string, id: string) => ({ distribution: level, sharing_group_id: id });
  await t.step(
    "equals with no sharing group involved and a selection is true (empty ⊆ anything)",
    async () => {
      const data = event("1", [{ distribution: "5" }]);
      assert.equal(await decide({ distribution: "4", sharing_group_id: ["7"] }, data), true);
    },
  );
  await t.step("equals with nothing selected needs some sharing group", async () => {
    assert.equal(await decide({ distribution: "4" }, event("1", [{ distribution: "5" }])), false);
    assert.equal(
      await decide({ distribution: "4" }, event("4", [sg("4", "7")], { sharing_group_id: "7" })),
      true,
    );
  });
  await t.step(
    "equals: every sharing group in the selection; not_equals: none of them",
    async () => {
      const data = event("4", [sg("4", "8")], { sharing_group_id: "7" });
      assert.equal(await decide({ distribution: "4", sharing_group_id: ["7", "8"] }, data), true);
      assert.equal(await decide({ distribution: "4", sharing_group_id: ["7"] }, data), false);
      assert.equal(
        await decide({ condition: "not_equals", distribution: "4", sharing_group_id: ["9"] }, data),
        true,
      );
      assert.equal(
        await decide({ condition: "not_equals", distribution: "4", sharing_group_id: ["8"] }, data),
        false,
      );
      assert.equal(await decide({ condition: "not_equals", distribution: "4" }, data), false);
    },
  );
  await t.step("scope event only looks at the event's sharing group", async () => {
    const data = event("4", [sg("4", "8")], { sharing_group_id: "7" });
    assert.equal(
      await decide({ scope: "event", distribution: "4", sharing_group_id: ["7"] }, data),
      true,
    );
  });
  await t.step("other operators push MISP's error", async () => {
    const run = await runModule(
      distributionIf,
      { condition: "more_restrictive_or_equal_than", distribution: "4" },
      event("1", [{ distribution: "1" }]),
    );
    assert.equal(run.result, false);
    assert.deepEqual(run.errors, ["Condition operator not supported for that distribution level"]);
  });
});

Deno.test("distribution-if fails clearly where MISP crashes (no Event.Attribute[0])", async (t) => {
  await t.step("scope attribute", async () => {
    await assert.rejects(
      async () => await runModule(distributionIf, {}, event("1")),
      /no "Event\.Attribute\[0\]": scope "attribute" reads it/,
    );
  });
  await t.step("scope event with Sharing Group selected", async () => {
    await assert.rejects(
      async () =>
        await runModule(distributionIf, { scope: "event", distribution: "4" }, event("1")),
      /the sharing group check reads it whatever the scope/,
    );
  });
  await t.step("no event at all", async () => {
    await assert.rejects(
      async () => await runModule(distributionIf, {}, {}),
      /The data has no "Event"/,
    );
  });
});

Deno.test("distribution-if on the real sighting_2 event", async () => {
  const data = await realEvent("misp-event-pymisp-sighting_2.json");
  const run = await runModule(distributionIf, { distribution: "0" }, data);
  assert.equal(run.observed.final_distribution, 0);
  assert.equal(run.result, true);
  assert.equal(await decide({ scope: "event", distribution: "1" }, data), true);
});
