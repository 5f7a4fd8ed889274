import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { assignCountry } from "../../../modules/action/assign_country.ts";
import { attachDecayScore } from "../../../modules/action/attach_decay_score.ts";
import { attachEnrichment } from "../../../modules/action/attach_enrichment.ts";
import {
  coreFormat,
  COUNTRY_GALAXY,
  createModuleContext,
  createSightingContext,
  sightingEvent,
  startSightingMisp,
} from "./misp_test_context.ts";

const TARGET_UUID = "5c764091-273c-4821-92ad-0e1a0a00020f";
const TARGET_ONLY = {
  selector: "Event._AttributeFlattened.{n}",
  value: "target-external",
  operator: "equals",
  path: "type",
};

Deno.test("attach-enrichment appends each module's results to the attribute in both views", async () => {
  const queries: JsonObject[] = [];
  await using misp = await startSightingMisp({
    enrichment: (query) => {
      queries.push(query);
      return query.module === "broken"
        ? { error: "Module unavailable" }
        : { results: [{ types: ["text"], values: ["LU"] }] };
    },
  });
  const run = await createSightingContext({
    module: attachEnrichment,
    params: { modules: ["geo", "broken"] },
    filters: TARGET_ONLY,
    misp,
  });
  assert.equal(await attachEnrichment.exec(run.context), true);
  assert.deepEqual(misp.requests.map((request) => request.path), [
    "/modules/queryEnrichment",
    "/modules/queryEnrichment",
  ]);
  assert.equal(queries[0]?.module, "geo");
  assert.equal(queries[0]?.["target-external"], "testvalue");
  assert.equal((queries[0]?.attribute as JsonObject).uuid, TARGET_UUID);
  assert.equal("_allTags" in (queries[0]?.attribute as JsonObject), false);
  const event = run.data().Event as JsonObject;
  const expected = [[{ types: ["text"], values: ["LU"] }], { error: "Module unavailable" }];
  assert.deepEqual((event._AttributeFlattened as JsonObject[])[1]?.enrichment, expected);
  assert.deepEqual((event.Attribute as JsonObject[])[1]?.enrichment, expected);
});

Deno.test("attach-decay-score replaces the attribute with MISP's scored copy", async () => {
  await using misp = await startSightingMisp();
  const run = await createSightingContext({
    module: attachDecayScore,
    params: { decayingmodels: ["1"] },
    filters: TARGET_ONLY,
    misp,
  });
  assert.equal(await attachDecayScore.exec(run.context), true);
  assert.deepEqual(misp.requests.map((request) => [request.path, request.body]), [
    ["/attributes/restSearch", {
      returnFormat: "json",
      uuid: TARGET_UUID,
      includeDecayScore: 1,
      decayingModel: ["1"],
    }],
  ]);
  const flattened = (run.data().Event as JsonObject)._AttributeFlattened as JsonObject[];
  const scored = flattened[1];
  assert.deepEqual(scored?.decay_score, [{
    score: 42.5,
    base_score: 80,
    decayed: false,
    DecayingModel: { id: "1", name: "Model 1" },
  }]);
  assert.equal("_allTags" in (scored ?? {}), false, "replaced wholesale, as MISP does");
  assert.deepEqual(((run.data().Event as JsonObject).Attribute as JsonObject[])[1], scored);
});

Deno.test("assign_country tags the event with the country clusters found in enrichments", async (t) => {
  const withEnrichment = async () => {
    const data = coreFormat(await sightingEvent());
    const event = data.Event as JsonObject;
    const flattened = event._AttributeFlattened as JsonObject[];
    flattened[1] = { ...flattened[1], enrichment: [[{ types: ["text"], values: ["Luxembourg"] }]] };
    return data;
  };

  await t.step("event scope", async () => {
    await using misp = await startSightingMisp({ galaxies: [COUNTRY_GALAXY] });
    const run = createModuleContext({
      module: assignCountry,
      data: await withEnrichment(),
      params: { locality: "global" },
      misp,
    });
    assert.equal(await assignCountry.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => [request.method, request.path, request.body]), [
      ["GET", "/galaxies/index", undefined],
      ["GET", "/galaxies/view/9", undefined],
      ["POST", "/tags/attachTagToObject", {
        uuid: "5c6ab833-676c-42f3-95d2-034f0a00020f",
        tag: 'misp-galaxy:country="luxembourg"',
        local: false,
      }],
    ]);
    assert.deepEqual(run.data(), await withEnrichment());
  });

  await t.step("attribute scope", async () => {
    await using misp = await startSightingMisp({ galaxies: [COUNTRY_GALAXY] });
    const run = createModuleContext({
      module: assignCountry,
      data: await withEnrichment(),
      params: { scope: "attribute" },
      misp,
    });
    assert.equal(await assignCountry.exec(run.context), true);
    assert.deepEqual(misp.requests[2]?.body, {
      uuid: TARGET_UUID,
      tag: 'misp-galaxy:country="luxembourg"',
      local: true,
    });
  });

  await t.step("nothing without enrichment results", async () => {
    await using misp = await startSightingMisp({ galaxies: [COUNTRY_GALAXY] });
    const run = await createSightingContext({ module: assignCountry, misp });
    assert.equal(await assignCountry.exec(run.context), true);
    assert.equal(misp.requests.length, 0);
  });
});
