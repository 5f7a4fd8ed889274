import assert from "node:assert/strict";
import { publishedIf } from "../../../modules/logic/published_if.ts";
import { runModule } from "./harness.ts";

const decide = async (condition: unknown, published: unknown) =>
  (await runModule(publishedIf, { condition }, { Event: { published } })).result;

Deno.test("published-if tests Event.published with PHP's empty()", async (t) => {
  await t.step("equals (default) and not_equals", async () => {
    assert.equal((await runModule(publishedIf, {}, { Event: { published: true } })).result, true);
    assert.equal(await decide("equals", false), false);
    assert.equal(await decide("not_equals", false), true);
    assert.equal(await decide("not_equals", true), false);
  });
  await t.step(
    '"false", "0.0" and ["x"] count as published, "0" does not (errata 27)',
    async () => {
      for (const value of ["false", "0.0", ["x"], "1"]) {
        assert.equal(
          await decide("equals", value),
          true,
        );
      }
      for (const value of ["0", "", null, 0]) assert.equal(await decide("equals", value), false);
      assert.equal((await runModule(publishedIf, { condition: "equals" }, {})).result, false);
    },
  );
  await t.step("any other condition is false both ways", async () => {
    assert.equal(await decide("in", true), false);
    assert.equal(await decide("in", false), false);
  });
});
