import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { tagReplacementGeneric } from "../../../modules/action/tag_replacement_generic.ts";
import { substitutePap, tagReplacementPap } from "../../../modules/action/tag_replacement_pap.ts";
import { substituteTlp, tagReplacementTlp } from "../../../modules/action/tag_replacement_tlp.ts";
import { startFakeMisp } from "../../fakes/misp_server.ts";
import { coreFormat, createModuleContext, sightingEvent } from "./misp_test_context.ts";

const EVENT_UUID = "5c6ab833-676c-42f3-95d2-034f0a00020f";
const COMMENT_UUID = "5c6ab897-0f68-44ca-8d62-0c150a00020f";

/** sighting_2 with a TLP look-alike on the event and a PAP look-alike on its first attribute. */
async function lookAlikeEvent(): Promise<JsonObject> {
  const stored = await sightingEvent();
  const event = stored.Event as JsonObject;
  event.Tag = [...(event.Tag as JsonObject[]), { id: "20", name: "TLP-AMBER", local: false }];
  const [comment] = event.Attribute as JsonObject[];
  comment!.Tag = [...(comment!.Tag as JsonObject[]), { id: "21", name: "pap=red", local: false }];
  return stored;
}

Deno.test("substituteTlp() and substitutePap() apply MISP's regexes", () => {
  const cases: [string, string | null][] = [
    ["TLP:AMBER", "tlp:amber"],
    ["tlp:white", "tlp:white"],
    ['tlp="red"', "tlp:red"],
    // PCRE and RE2 both take the first alternative that lets the whole pattern match.
    ["tlp:amber+strict", "tlp:amber"],
    ["TLP-AMBER", "tlp:amber"],
    ["Traffic Light Protocol: Red", null],
    ["xtlp:red", null],
    ['misp-galaxy:botnet="Asprox"', null],
  ];
  for (const [name, expected] of cases) assert.equal(substituteTlp(name), expected, name);
  assert.equal(substitutePap("pap=red"), "PAP:RED");
  assert.equal(substitutePap("PAP:clear"), "PAP:CLEAR");
  assert.equal(substitutePap("tlp:red"), null);
});

Deno.test("tag_replacement_tlp replaces the event's TLP look-alike", async (t) => {
  await t.step("adding tlp:amber and keeping the original with the default", async () => {
    await using misp = await startFakeMisp({ events: [await lookAlikeEvent()] });
    const run = createModuleContext({
      module: tagReplacementTlp,
      data: coreFormat(await lookAlikeEvent()),
      params: {},
      misp,
    });
    assert.equal(await tagReplacementTlp.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => [request.path, request.body]), [
      ["/tags/attachTagToObject", { uuid: EVENT_UUID, tag: "tlp:amber", local: true }],
    ]);
    const stored = (misp.event("1")?.Tag as JsonObject[]).map((tag) => tag.name);
    assert.deepEqual(stored, ['misp-galaxy:botnet="Asprox"', "TLP-AMBER", "tlp:amber"]);
    assert.deepEqual(run.data(), coreFormat(await lookAlikeEvent()));
  });

  await t.step("removing the substituted tag when asked", async () => {
    await using misp = await startFakeMisp({ events: [await lookAlikeEvent()] });
    const run = createModuleContext({
      module: tagReplacementTlp,
      data: coreFormat(await lookAlikeEvent()),
      params: { remove_substituted: "yes", locality: "global" },
      misp,
    });
    assert.equal(await tagReplacementTlp.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => [request.path, request.body]), [
      ["/tags/removeTagFromObject", { uuid: EVENT_UUID, tag: "TLP-AMBER" }],
      ["/tags/attachTagToObject", { uuid: EVENT_UUID, tag: "tlp:amber", local: false }],
    ]);
    const stored = (misp.event("1")?.Tag as JsonObject[]).map((tag) => tag.name);
    assert.deepEqual(stored, ['misp-galaxy:botnet="Asprox"', "tlp:amber"]);
    assert.deepEqual(run.data(), coreFormat(await lookAlikeEvent()));
  });
});

Deno.test("tag_replacement_pap replaces attribute tags in attribute scope", async () => {
  await using misp = await startFakeMisp({ events: [await lookAlikeEvent()] });
  const run = createModuleContext({
    module: tagReplacementPap,
    data: coreFormat(await lookAlikeEvent()),
    params: { scope: "attribute" },
    misp,
  });
  assert.equal(await tagReplacementPap.exec(run.context), true);
  assert.deepEqual(misp.requests.map((request) => request.body), [
    { uuid: COMMENT_UUID, tag: "PAP:RED", local: true },
  ]);
  assert.deepEqual(run.data(), coreFormat(await lookAlikeEvent()));
});

Deno.test("tag_replacement_generic replaces nothing, as MISP's empty rule", async () => {
  await using misp = await startFakeMisp({ events: [await lookAlikeEvent()] });
  const run = createModuleContext({
    module: tagReplacementGeneric,
    data: coreFormat(await lookAlikeEvent()),
    params: { scope: "all" },
    misp,
  });
  assert.equal(await tagReplacementGeneric.exec(run.context), true);
  assert.equal(misp.requests.length, 0);
  assert.equal(run.records.length, 0);
});

Deno.test("tag_replacement_tlp dry run records both calls and sends nothing", async () => {
  await using misp = await startFakeMisp({ events: [await lookAlikeEvent()] });
  const run = createModuleContext({
    module: tagReplacementTlp,
    data: coreFormat(await lookAlikeEvent()),
    params: { remove_substituted: "yes", scope: "all" },
    misp,
    dryRun: true,
  });
  assert.equal(await tagReplacementTlp.exec(run.context), true);
  assert.equal(misp.requests.length, 0);
  assert.deepEqual(run.records.map((record) => [record.dry, record.url]), [
    [true, "/tags/removeTagFromObject"],
    [true, "/tags/attachTagToObject"],
  ]);
});
