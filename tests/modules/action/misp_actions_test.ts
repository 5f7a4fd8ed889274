import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { MISP_ACTIONS } from "../../../modules/action/misp_actions.ts";
import { IntegrationMissingError } from "../../../engine/module_errors.ts";
import { startFakeMisp } from "../../fakes/misp_server.ts";
import { coreFormat, createModuleContext, sightingEvent } from "./misp_test_context.ts";

/** id → [version, support_filters, expect_misp_core_format], from reference §2.1. */
const CATALOGUE: Record<string, [string, boolean, boolean]> = {
  "add_analyst_data": ["0.1", true, true],
  "attribute_edition_operation": ["0.1", true, true],
  "run-workflow": ["0.1", true, true],
  "tag_country_asn_from_enrichment": ["0.1", true, false],
  "add_eventblocklist_entry": ["0.1", false, true],
  "add_to_warninglist": ["0.1", true, true],
  "assign_country": ["0.2", true, true],
  "attach-decay-score": ["0.1", true, true],
  "attach-enrichment": ["0.3", true, true],
  "attach-warninglist": ["0.2", true, true],
  "Module_attribute_comment_operation": ["0.1", true, true],
  "attribute_distribution_operation": ["0.1", true, true],
  "attribute_ids_flag_operation": ["0.1", true, true],
  "enrich-event": ["0.2", true, true],
  "Module_event_distribution_operation": ["0.1", false, true],
  "proposal-action": ["0.2", true, true],
  "publish-event": ["0.1", false, false],
  "reload-full-event": ["0.1", false, true],
  "tag_operation": ["0.2", true, true],
  "tag_replacement_generic": ["0.1", true, true],
  "tag_replacement_pap": ["0.1", true, true],
  "tag_replacement_tlp": ["0.1", true, true],
};

/**
 * Modules whose work is not a MISP call (the base-class no-op; run-workflow, which needs the
 * workflow runner); their own tests cover them.
 */
const NOT_MISP_FIRST = new Set(["attribute_edition_operation", "run-workflow"]);

/** Params that make each module act on the sighting_2 event. */
const ACTING_PARAMS: Record<string, Record<string, unknown>> = {
  "add_to_warninglist": { warninglist: "3" },
  "attach-decay-score": { decayingmodels: ["1"] },
  "attach-enrichment": { modules: ["dns"] },
  "enrich-event": { modules: "dns" },
  "proposal-action": { proposal_type: "any" },
  "tag_operation": { tags: ["tlp:green"] },
  "attribute_distribution_operation": { distribution: "3" },
  "Module_attribute_comment_operation": { comment: "x" },
};

async function eventWithEverything(): Promise<JsonObject> {
  const stored = await sightingEvent();
  const event = stored.Event as JsonObject;
  event.Tag = [...(event.Tag as JsonObject[]), { id: "5", name: "TLP-RED", local: false }, {
    id: "6",
    name: "pap=amber",
    local: false,
  }];
  event.ShadowAttribute = [{ id: "9", old_id: "0", type: "ip-dst", value: "198.51.100.1" }];
  const [comment, target] = event.Attribute as JsonObject[];
  comment!.enrichment = [[{ types: ["text"], values: ["Luxembourg"] }]];
  target!.enrichment = [{
    Attribute: [{ object_relation: "country", value: "Luxembourg", type: "text" }],
  }];
  return stored;
}

Deno.test("MISP_ACTIONS lists every MISP-operation module with MISP's ids, versions and flags", () => {
  const ids = MISP_ACTIONS.map((module) => module.descriptor.id);
  assert.deepEqual([...ids].sort(), Object.keys(CATALOGUE).sort());
  for (const { descriptor } of MISP_ACTIONS) {
    const [version, filters, coreFormat] = CATALOGUE[descriptor.id]!;
    assert.equal(descriptor.version, version, descriptor.id);
    assert.equal(descriptor.support_filters, filters, descriptor.id);
    assert.equal(descriptor.expect_misp_core_format, coreFormat, descriptor.id);
    assert.equal(descriptor.module_type, "action");
    assert.equal(descriptor.blocking, false);
    assert.equal(descriptor.inputs, 1);
    assert.equal(descriptor.outputs, 1);
    const paramIds = descriptor.params.map((param) => param.id);
    assert.equal(new Set(paramIds).size, paramIds.length, descriptor.id);
  }
});

Deno.test("every MISP action records its calls in a dry run and sends nothing", async (t) => {
  for (const module of MISP_ACTIONS) {
    if (NOT_MISP_FIRST.has(module.descriptor.id)) continue;
    await t.step(module.descriptor.id, async () => {
      await using misp = await startFakeMisp({ events: [await eventWithEverything()] });
      const run = createModuleContext({
        module,
        data: coreFormat(await eventWithEverything()),
        params: ACTING_PARAMS[module.descriptor.id] ?? {},
        misp,
        dryRun: true,
      });
      const before = JSON.stringify(run.data());
      assert.equal(await module.exec(run.context), true);
      assert.equal(misp.requests.length, 0);
      if (module.descriptor.id !== "tag_replacement_generic") {
        assert.ok(run.records.length > 0, "records the calls it would make");
      }
      for (const record of run.records) {
        assert.equal(record.kind, "misp");
        assert.equal(record.dry, true);
        assert.match(String(record.url), /^\/[a-zA-Z_]+\//);
        assert.ok(!JSON.stringify(record).includes(misp.apiKey));
      }
      if (module.descriptor.id === "reload-full-event") {
        assert.equal(JSON.stringify(run.data()), before);
      }
    });
  }
});

Deno.test("every MISP action can dry-run without MISP configured", async (t) => {
  for (const module of MISP_ACTIONS) {
    if (NOT_MISP_FIRST.has(module.descriptor.id)) continue;
    await t.step(module.descriptor.id, async () => {
      const run = createModuleContext({
        module,
        data: coreFormat(await eventWithEverything()),
        params: ACTING_PARAMS[module.descriptor.id] ?? {},
        misp: null,
        dryRun: true,
      });
      assert.equal(await module.exec(run.context), true);
      assert.ok(run.records.every((record) => record.dry));
    });
  }
});

Deno.test("every MISP action fails without MISP_URL and MISP_API_KEY", async (t) => {
  for (const module of MISP_ACTIONS) {
    if (NOT_MISP_FIRST.has(module.descriptor.id)) continue;
    if (module.descriptor.id === "tag_replacement_generic") continue;
    await t.step(module.descriptor.id, async () => {
      const run = createModuleContext({
        module,
        data: coreFormat(await eventWithEverything()),
        params: ACTING_PARAMS[module.descriptor.id] ?? {},
        misp: null,
      });
      await assert.rejects(
        () => Promise.resolve(module.exec(run.context)),
        (error) =>
          error instanceof IntegrationMissingError &&
          error.message === "This module needs MISP_URL and MISP_API_KEY to be set",
      );
    });
  }
});

Deno.test("no MISP action puts the API key in a record, live", async (t) => {
  for (const module of MISP_ACTIONS) {
    if (NOT_MISP_FIRST.has(module.descriptor.id)) continue;
    await t.step(module.descriptor.id, async () => {
      await using misp = await startFakeMisp({
        events: [await eventWithEverything()],
        warninglists: [{ id: "3", name: "List", type: "string", WarninglistEntry: [] }],
      });
      const run = createModuleContext({
        module,
        data: coreFormat(await eventWithEverything()),
        params: ACTING_PARAMS[module.descriptor.id] ?? {},
        misp,
      });
      await module.exec(run.context);
      assert.ok(run.records.every((record) => record.dry === false));
      assert.ok(!JSON.stringify(run.records).includes(misp.apiKey));
      assert.ok(!JSON.stringify(run.data()).includes(misp.apiKey));
      assert.equal(run.records.length, misp.requests.length);
    });
  }
});
