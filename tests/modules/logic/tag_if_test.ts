import assert from "node:assert/strict";
import { tagIf } from "../../../modules/logic/tag_if.ts";
import { realEvent, runModule, taggedEvent } from "./harness.ts";

const decide = async (
  params: Record<string, unknown>,
  data = taggedEvent(["tlp:amber"], [["tlp:red"], ["tlp:red", "PAP:RED"]]),
) => (await runModule(tagIf, params, data)).result;

Deno.test("tag-if reads the tags of the chosen scope", async (t) => {
  await t.step("event scope (default) sees only event tags", async () => {
    assert.equal(await decide({ tags: ["tlp:amber"] }), true);
    assert.equal(await decide({ tags: ["tlp:red"] }), false);
  });
  await t.step("attribute scope sees attribute tags of every attribute together", async () => {
    assert.equal(await decide({ scope: "attribute", tags: ["PAP:RED"] }), true);
    assert.equal(await decide({ scope: "attribute", tags: ["tlp:amber"] }), false);
  });
  await t.step("event_attribute scope sees inherited tags", async () => {
    assert.equal(await decide({ scope: "event_attribute", tags: ["tlp:amber"] }), true);
  });
  await t.step("an unknown scope falls back to the event", async () => {
    assert.equal(await decide({ scope: "galaxy", tags: ["tlp:amber"] }), true);
  });
  await t.step("clusters get their misp-galaxy: prefix back", async () => {
    const data = taggedEvent(['misp-galaxy:botnet="Asprox"'], []);
    assert.equal(await decide({ clusters: ['botnet="Asprox"'] }, data), true);
    const run = await runModule(tagIf, { clusters: ['botnet="Asprox"'] }, data);
    assert.deepEqual(run.observed.tags_selected, ['misp-galaxy:botnet="Asprox"']);
    assert.deepEqual(run.observed.tags_found, ['misp-galaxy:botnet="Asprox"']);
  });
});

Deno.test("tag-if conditions behave as MISP's evaluateCondition (errata 6, 16, 17)", async (t) => {
  const data = taggedEvent([], [["tlp:red"], ["tlp:red", "PAP:RED"]]);
  const scope = "attribute";
  await t.step("in_or / not_in_or", async () => {
    assert.equal(await decide({ scope, condition: "in_or", tags: ["PAP:RED", "x"] }, data), true);
    assert.equal(await decide({ scope, condition: "not_in_or", tags: ["PAP:RED"] }, data), false);
    assert.equal(await decide({ scope, condition: "not_in_or", tags: ["x"] }, data), true);
  });
  await t.step("in_and fails on a tag carried by two attributes (duplicates)", async () => {
    assert.equal(await decide({ scope, condition: "in_and", tags: ["tlp:red"] }, data), false);
    assert.equal(
      await decide({ scope, condition: "in_and", tags: ["tlp:red", "PAP:RED"] }, data),
      false,
    );
    assert.equal(
      await decide({ scope, condition: "in_and", tags: ["tlp:red", "tlp:red"] }, data),
      true,
    );
    assert.equal(
      await decide({ scope, condition: "in_and", tags: ["tlp:red", "tlp:red", "PAP:RED"] }, data),
      true,
    );
  });
  await t.step("not_in_and is order-sensitive and true on duplicates", async () => {
    const single = taggedEvent([], [["a", "b"]]);
    assert.equal(await decide({ scope, condition: "not_in_and", tags: ["a", "b"] }, single), false);
    assert.equal(await decide({ scope, condition: "not_in_and", tags: ["b", "a"] }, single), true);
    assert.equal(await decide({ scope, condition: "not_in_and", tags: ["tlp:red"] }, data), true);
  });
  await t.step("an empty selection flips the list operators", async () => {
    assert.equal(await decide({ scope, condition: "in_and" }, data), true);
    assert.equal(await decide({ scope, condition: "not_in_and" }, data), false);
    assert.equal(await decide({ scope, condition: "in_or" }, data), false);
    assert.equal(await decide({ scope, condition: "not_in_or" }, data), true);
  });
  await t.step("an unknown condition is false; null params take their defaults", async () => {
    assert.equal(await decide({ scope, condition: "in", tags: ["tlp:red"] }, data), false);
    assert.equal(
      await decide(
        { scope: null, condition: null, tags: ["tlp:red"] },
        taggedEvent(["tlp:red"], []),
      ),
      true,
    );
  });
});

Deno.test("tag-if on the real sighting_2 event: an event tag is a duplicate in event_attribute scope (errata 18)", async () => {
  const event = await realEvent("misp-event-pymisp-sighting_2.json");
  const asprox = ['botnet="Asprox"'];
  const run = async (condition: string) =>
    (await runModule(tagIf, { scope: "event_attribute", condition, clusters: asprox }, event))
      .result;
  assert.equal(await run("in_or"), true);
  assert.equal(await run("in_and"), false);
  assert.equal(await run("not_in_and"), true);
});

Deno.test("tag-if refuses a string where MISP crashes with a TypeError (errata 19)", async (t) => {
  await t.step("tags as a string", async () => {
    await assert.rejects(
      async () => await runModule(tagIf, { tags: "tlp:red" }, taggedEvent([], [])),
      /Param "tags" must be a list of names, got "tlp:red"/,
    );
  });
  await t.step(
    "a non-empty clusters string; the blueprint's empty string is harmless",
    async () => {
      await assert.rejects(
        async () => await runModule(tagIf, { clusters: "x" }, taggedEvent([], [])),
        /Param "clusters" must be a list/,
      );
      assert.equal(await decide({ clusters: "", tags: ["tlp:amber"] }), true);
    },
  );
});
