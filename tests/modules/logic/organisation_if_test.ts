import assert from "node:assert/strict";
import { organisationIf } from "../../../modules/logic/organisation_if.ts";
import { realEvent, runModule } from "./harness.ts";

const data = { Event: { org_id: "2", orgc_id: "5" } };
const decide = async (params: Record<string, unknown>, input: Record<string, unknown> = data) =>
  (await runModule(organisationIf, params, input)).result;

Deno.test("organisation-if tests the creator or owner organisation", async (t) => {
  await t.step("orgc by default, in by default", async () => {
    assert.equal(await decide({ org_id: ["5", "6"] }), true);
    assert.equal(await decide({ org_id: ["2"] }), false);
  });
  await t.step("org_type org reads Event.org_id", async () => {
    assert.equal(await decide({ org_type: "org", org_id: ["2"] }), true);
  });
  await t.step("not_in, and the legacy equals / not_equals", async () => {
    assert.equal(await decide({ condition: "not_in", org_id: ["2"] }), true);
    assert.equal(await decide({ condition: "equals", org_id: ["5"] }), true);
    assert.equal(await decide({ condition: "not_equals", org_id: ["5"] }), false);
  });
  await t.step("a scalar org_id is wrapped; null takes the default [1]", async () => {
    assert.equal(await decide({ org_id: "5" }), true);
    assert.equal(await decide({ org_id: null }, { Event: { orgc_id: "1" } }), true);
  });
  await t.step("a missing organisation is 0, which is not in ['abc'] (errata 28)", async () => {
    assert.equal(await decide({ org_id: ["abc"] }, { Event: {} }), false);
    assert.equal(await decide({ org_id: ["0"] }, { Event: {} }), true);
  });
  await t.step("an unknown condition is false", async () => {
    assert.equal(await decide({ condition: "maybe", org_id: ["5"] }), false);
  });
});

Deno.test("organisation-if on the real sighting_2 event", async () => {
  const event = await realEvent("misp-event-pymisp-sighting_2.json");
  const run = await runModule(organisationIf, { org_id: ["1"] }, event);
  assert.equal(run.result, true);
  assert.equal(run.observed.organisation_id, 1);
});
