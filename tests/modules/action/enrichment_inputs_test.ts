import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { attachEnrichment } from "../../../modules/action/attach_enrichment.ts";
import { enrichEvent } from "../../../modules/action/enrich_event.ts";
import {
  createEnrichmentInputs,
  inputsByModule,
} from "../../../modules/action/lib/enrichment_inputs.ts";
import { createMispClient } from "../../../modules/action/lib/misp_client.ts";
import { startFakeMisp } from "../../fakes/misp_server.ts";
import { startWebhookSink } from "../../fakes/webhook_sink.ts";
import { coreFormat, sightingEvent } from "./misp_test_context.ts";
import { createNodeContext } from "./node_test_context.ts";

/** What a misp-modules server lists under `/modules` (trimmed to what MISP reads). */
const LISTING = [
  {
    name: "bgpranking",
    type: "expansion",
    mispattributes: { input: ["AS"], format: "misp_standard" },
    meta: { "module-type": ["expansion", "hover"] },
  },
  {
    name: "dns",
    type: "expansion",
    mispattributes: { input: ["hostname", "domain", "target-external"], output: ["ip-src"] },
    meta: { "module-type": ["expansion", "hover"] },
  },
  { name: "broken", type: "expansion", meta: {} },
];

/** The sighting_2 event (a `comment` and a `target-external`) plus an `AS` attribute. */
async function eventWithAs(): Promise<JsonObject> {
  const stored = await sightingEvent();
  (stored.Event as JsonObject).Attribute = [
    ...((stored.Event as JsonObject).Attribute as JsonObject[]),
    {
      id: "301",
      uuid: "7e3f0a55-42a4-4c43-9a0e-6c3c1b0d5f01",
      event_id: "1",
      object_id: "0",
      type: "AS",
      category: "Network activity",
      value: "AS6661",
      to_ids: false,
      distribution: "5",
      comment: "",
      timestamp: "1550467205",
    },
  ];
  return stored;
}

Deno.test("inputsByModule() reads each module's mispattributes.input", () => {
  const inputs = inputsByModule(LISTING);
  assert.deepEqual(inputs.get("bgpranking"), ["AS"]);
  assert.deepEqual(inputs.get("dns"), ["hostname", "domain", "target-external"]);
  assert.equal(inputs.has("broken"), false);
  assert.equal(inputsByModule({ error: "not a list" }).size, 0);
});

Deno.test("createEnrichmentInputs() asks misp-modules once and says null for unknown modules", async () => {
  await using modules = startWebhookSink();
  modules.reply({ body: JSON.stringify(LISTING) });
  const lookup = createEnrichmentInputs(modules.url);
  assert.deepEqual(await lookup("bgpranking"), ["AS"]);
  assert.equal(await lookup("not-listed"), null);
  assert.deepEqual(modules.requests.map((request) => [request.method, request.path]), [
    ["GET", "/modules"],
  ]);
});

Deno.test("createEnrichmentInputs() treats an unreadable listing as unknown", async () => {
  await using modules = startWebhookSink();
  modules.reply({ status: 500, body: "down" });
  assert.equal(await createEnrichmentInputs(modules.url)("bgpranking"), null);
});

Deno.test("createEnrichmentInputs() makes lookups made during the fetch wait for that one fetch", async () => {
  await using modules = startWebhookSink();
  modules.reply({ body: JSON.stringify(LISTING), delayMs: 50 });
  const lookup = createEnrichmentInputs(modules.url);
  const answers = await Promise.all(Array.from({ length: 200 }, () => lookup("bgpranking")));
  assert.ok(answers.every((inputs) => inputs?.[0] === "AS"));
  assert.equal(modules.requests.length, 1, "200 concurrent node runs made one /modules request");
});

Deno.test("createEnrichmentInputs() stops reading a listing over its byte cap", async (t) => {
  const entry = JSON.stringify(LISTING[0]);
  const big = `[${Array.from({ length: 4_096 }, () => entry).join(",")}]`;
  await t.step("declared by Content-Length", async () => {
    await using modules = startWebhookSink();
    modules.reply({ body: big });
    const lookup = createEnrichmentInputs(modules.url, { maxBytes: 65_536 });
    assert.equal(await lookup("bgpranking"), null);
  });
  await t.step("streamed without a length: read up to the cap, then cancelled", async () => {
    const bytes = new TextEncoder().encode(big);
    let sent = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(sent, sent + 16_384));
        sent += 16_384;
      },
      cancel() {
        cancelled = true;
      },
    });
    const lookup = createEnrichmentInputs("http://modules.invalid", {
      maxBytes: 65_536,
      fetch: () => Promise.resolve(new Response(body)),
    });
    assert.equal(await lookup("bgpranking"), null);
    assert.ok(cancelled, "the listing stream was cancelled at the cap");
    assert.ok(sent < bytes.length, `read ${sent} of ${bytes.length} bytes`);
  });
});

Deno.test("attach-enrichment queries a module only for the types it takes, live and dry", async (t) => {
  await using modules = startWebhookSink();
  modules.reply({ body: JSON.stringify(LISTING) });
  const enrichmentInputs = createEnrichmentInputs(modules.url);

  await t.step(
    "live: bgpranking is asked about the AS only, dns about the target-external",
    async () => {
      const queried: string[] = [];
      await using misp = await startFakeMisp({
        events: [await eventWithAs()],
        enrichment: (query) => {
          const attribute = query.attribute as JsonObject;
          queried.push(`${query.module}:${attribute.type}`);
          return { results: [] };
        },
      });
      const run = createNodeContext({
        module: attachEnrichment,
        data: coreFormat(await eventWithAs()),
        params: { modules: ["bgpranking", "dns"] },
        renderTemplate: (text) => text,
        services: {
          misp: createMispClient({ url: misp.url, apiKey: misp.apiKey, tlsVerify: true }),
          enrichmentInputs,
        },
      });
      assert.equal(await attachEnrichment.exec(run.context), true);
      assert.deepEqual(queried, ["dns:target-external", "bgpranking:AS"]);
      assert.deepEqual(run.observed.skipped_types, [
        { module: "bgpranking", attribute_id: "1", type: "comment" },
        { module: "bgpranking", attribute_id: "242460", type: "target-external" },
        { module: "dns", attribute_id: "1", type: "comment" },
        { module: "dns", attribute_id: "301", type: "AS" },
      ]);
    },
  );

  /** The attribute types a dry bgpranking enrichment records, with or without the listing. */
  const dryQueriedTypes = async (withListing: boolean) => {
    const run = createNodeContext({
      module: attachEnrichment,
      data: coreFormat(await eventWithAs()),
      params: { modules: "bgpranking" },
      dryRun: true,
      renderTemplate: (text) => text,
      ...(withListing ? { services: { enrichmentInputs } } : {}),
    });
    assert.equal(await attachEnrichment.exec(run.context), true);
    return run.records.map((record) => record.details?.attribute_type);
  };

  await t.step("dry: the same queries are recorded, nothing is sent", async () => {
    assert.deepEqual(await dryQueriedTypes(true), ["AS"]);
  });

  await t.step("without a listing every attribute is queried, as before", async () => {
    assert.deepEqual(await dryQueriedTypes(false), ["comment", "target-external", "AS"]);
  });
});

Deno.test("enrich-event with filters enriches only the attributes the module takes", async () => {
  await using modules = startWebhookSink();
  modules.reply({ body: JSON.stringify(LISTING) });
  const run = createNodeContext({
    module: enrichEvent,
    data: coreFormat(await eventWithAs()),
    params: { modules: "bgpranking" },
    filters: {
      selector: "Event._AttributeFlattened.{n}",
      value: "",
      operator: "any_value",
      path: "type",
    },
    dryRun: true,
    renderTemplate: (text) => text,
    services: { enrichmentInputs: createEnrichmentInputs(modules.url) },
  });
  assert.equal(await enrichEvent.exec(run.context), true);
  assert.deepEqual(run.records.map((record) => record.url), [
    "/attributes/enrich/301",
    "/events/view/1",
  ]);
});
