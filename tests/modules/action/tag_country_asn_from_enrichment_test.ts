import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import {
  countryAsnTags,
  tagCountryAsnFromEnrichment,
} from "../../../modules/action/tag_country_asn_from_enrichment.ts";
import {
  coreFormat,
  createModuleContext,
  sightingEvent,
  startSightingMisp,
} from "./misp_test_context.ts";

const TARGET_UUID = "5c764091-273c-4821-92ad-0e1a0a00020f";

/** A misp_standard enrichment result as `attach-enrichment` leaves it (an ASN lookup). */
const ASN_ENRICHMENT = [{
  Object: [{
    name: "asn",
    Attribute: [
      { object_relation: "asn", type: "AS", value: "AS6661" },
      { object_relation: "country", type: "text", value: " Luxembourg " },
      { object_relation: "countrycode", type: "text", value: "LU" },
      { object_relation: "ASNOrganization", type: "text", value: 'POST "Luxembourg"' },
    ],
  }],
}];

/** The sighting_2 event in core format with `enrichment` on its target-external attribute. */
async function enrichedData(enrichment: unknown): Promise<JsonObject> {
  const data = coreFormat(await sightingEvent());
  const event = data.Event as JsonObject;
  for (const list of [event.Attribute, event._AttributeFlattened] as JsonObject[][]) {
    const target = list.find((attribute) => attribute.uuid === TARGET_UUID)!;
    target.enrichment = enrichment;
  }
  return data;
}

function targetOf(data: JsonObject): JsonObject {
  const event = data.Event as JsonObject;
  return (event._AttributeFlattened as JsonObject[]).find((item) => item.uuid === TARGET_UUID)!;
}

Deno.test("tag_country_asn_from_enrichment tags the attribute and mirrors the tags", async () => {
  await using misp = await startSightingMisp();
  const run = createModuleContext({
    module: tagCountryAsnFromEnrichment,
    data: await enrichedData(ASN_ENRICHMENT),
    misp,
  });
  assert.equal(await tagCountryAsnFromEnrichment.exec(run.context), true);
  const tags = [
    'country:"LUXEMBOURG"',
    'asn_number:"6661"',
    "asn_org:\"POST 'Luxembourg'\"",
    'country_code:"LU"',
  ];
  assert.deepEqual(
    misp.requests.map((request) => [request.path, request.body]),
    tags.map((tag) => [
      "/tags/attachTagToObject",
      { uuid: TARGET_UUID, tag, local: true },
    ]),
  );
  const target = targetOf(run.data());
  assert.deepEqual((target.Tag as JsonObject[]).map((tag) => tag.name), tags);
  assert.deepEqual(
    (target._allTags as JsonObject[]).filter((tag) => !tag.inherited).map((tag) => tag.name),
    tags,
  );
  const stored = misp.event("1")!.Attribute as JsonObject[];
  const storedTags = stored.find((attribute) => attribute.uuid === TARGET_UUID)!.Tag;
  assert.deepEqual((storedTags as JsonObject[]).map((tag) => tag.name), tags);
  assert.ok(!JSON.stringify(run.records).includes(misp.apiKey));
});

Deno.test("tag_country_asn_from_enrichment attaches global tags when asked", async () => {
  await using misp = await startSightingMisp();
  const run = createModuleContext({
    module: tagCountryAsnFromEnrichment,
    data: await enrichedData(ASN_ENRICHMENT),
    params: { locality: "global" },
    misp,
  });
  assert.equal(await tagCountryAsnFromEnrichment.exec(run.context), true);
  assert.ok(misp.requests.every((request) => (request.body as JsonObject).local === false));
});

Deno.test("tag_country_asn_from_enrichment fails doing nothing without enrichment", async () => {
  await using misp = await startSightingMisp();
  const run = createModuleContext({
    module: tagCountryAsnFromEnrichment,
    data: coreFormat(await sightingEvent()),
    misp,
  });
  assert.equal(await tagCountryAsnFromEnrichment.exec(run.context), false);
  assert.equal(misp.requests.length, 0);
});

Deno.test("tag_country_asn_from_enrichment records the tags in a dry run and sends none", async () => {
  await using misp = await startSightingMisp();
  const run = createModuleContext({
    module: tagCountryAsnFromEnrichment,
    data: await enrichedData(ASN_ENRICHMENT),
    misp,
    dryRun: true,
  });
  assert.equal(await tagCountryAsnFromEnrichment.exec(run.context), true);
  assert.equal(misp.requests.length, 0);
  assert.equal(run.records.length, 4);
  assert.ok(run.records.every((record) => record.dry && record.url === "/tags/attachTagToObject"));
});

Deno.test("tag_country_asn_from_enrichment only tags the attributes the filters select", async () => {
  await using misp = await startSightingMisp();
  const run = createModuleContext({
    module: tagCountryAsnFromEnrichment,
    data: await enrichedData(ASN_ENRICHMENT),
    filters: {
      selector: "Event._AttributeFlattened.{n}",
      path: "type",
      operator: "equals",
      value: "comment",
    },
    misp,
  });
  assert.equal(await tagCountryAsnFromEnrichment.exec(run.context), false);
  assert.equal(misp.requests.length, 0);
});

Deno.test("countryAsnTags() reads MISP's paths and fallbacks", async (t) => {
  await t.step("attribute results and the ASN relation in capitals", () => {
    assert.deepEqual(
      countryAsnTags({
        enrichment: [
          { Attribute: [{ object_relation: "country", value: "France" }] },
          { Object: [{ Attribute: [{ object_relation: "ASN", value: "asn 3215" }] }] },
        ],
      }),
      ['country:"FRANCE"', 'asn_number:"3215"'],
    );
  });
  await t.step("the organisation named in a description", () => {
    assert.deepEqual(
      countryAsnTags({
        enrichment: [{
          Attribute: [{ object_relation: "description", value: 'ASNOrganization: "Example Org".' }],
        }],
      }),
      ['asn_org:"Example Org"'],
    );
  });
  await t.step("an ASN without digits and blank values give no tag", () => {
    assert.deepEqual(
      countryAsnTags({
        enrichment: [{
          Attribute: [
            { object_relation: "asn", value: "unknown" },
            { object_relation: "country", value: "  " },
          ],
        }],
      }),
      [],
    );
  });
});
