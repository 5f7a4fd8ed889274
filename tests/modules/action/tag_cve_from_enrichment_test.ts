import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { createMispClient } from "../../../modules/action/lib/misp_client.ts";
import {
  createTagCveFromEnrichment,
  cveSummary,
  cveTags,
  cvssBaseScore,
  parseCveRecord,
  tagCveFromEnrichment,
  VULNERABILITY_TTP_TAG,
} from "../../../modules/action/tag_cve_from_enrichment.ts";
import { TransientError } from "../../../engine/module_errors.ts";
import type { WorkflowModule } from "../../../engine/module.ts";
import { type FakeMisp, startFakeMisp } from "../../fakes/misp_server.ts";
import { startWebhookSink, type WebhookSink } from "../../fakes/webhook_sink.ts";
import {
  coreFormat,
  CVE_ATTRIBUTE_UUID,
  sightingEvent,
  vulnerabilityAttribute,
} from "./misp_test_context.ts";
import { createNodeContext } from "./node_test_context.ts";
import { loopbackFetch } from "./outbound_test_context.ts";

/** A CVE 5 record trimmed to the parts the module reads (CVE-2021-44228 as published). */
const LOG4SHELL = {
  dataType: "CVE_RECORD",
  cveMetadata: { cveId: "CVE-2021-44228" },
  containers: {
    cna: {
      descriptions: [
        { lang: "es", value: "Apache Log4j2 ..." },
        {
          lang: "en",
          value:
            "Apache Log4j2 2.0-beta9 through 2.15.0 JNDI features do not protect against attacker controlled LDAP endpoints. ",
        },
      ],
      metrics: [
        { other: { type: "unknown" } },
        { cvssV3_1: { baseScore: 10, baseSeverity: "CRITICAL" } },
      ],
    },
  },
};

/** The sighting_2 event with one `vulnerability` attribute added. */
async function vulnerableEvent(comment = ""): Promise<JsonObject> {
  const stored = await sightingEvent();
  (stored.Event as JsonObject).Attribute = [
    ...((stored.Event as JsonObject).Attribute as JsonObject[]),
    vulnerabilityAttribute(comment),
  ];
  return stored;
}

interface CveRun {
  module: WorkflowModule;
  misp: FakeMisp;
  sink: WebhookSink;
  run: ReturnType<typeof createNodeContext>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function startCveRun(
  options: { params?: Record<string, unknown>; dryRun?: boolean; comment?: string } = {},
): Promise<CveRun> {
  const stored = await vulnerableEvent(options.comment);
  const misp = await startFakeMisp({ events: [stored] });
  const sink = startWebhookSink();
  sink.reply({ status: 200, body: JSON.stringify(LOG4SHELL) });
  const module = createTagCveFromEnrichment({ lookupRoot: `${sink.url}/` });
  const run = createNodeContext({
    module,
    data: coreFormat(stored),
    params: options.params ?? {},
    dryRun: options.dryRun ?? false,
    renderTemplate: (text) => text,
    services: {
      misp: createMispClient({ url: misp.url, apiKey: misp.apiKey, tlsVerify: true, retries: 0 }),
      outboundFetch: loopbackFetch(),
      secrets: [misp.apiKey],
    },
  });
  return {
    module,
    misp,
    sink,
    run,
    async [Symbol.asyncDispose]() {
      await sink.close();
      await misp.close();
    },
  };
}

function cveAttribute(data: JsonObject): JsonObject {
  const event = data.Event as JsonObject;
  return (event._AttributeFlattened as JsonObject[]).find((item) =>
    item.uuid === CVE_ATTRIBUTE_UUID
  )!;
}

Deno.test("tag_cve_from_enrichment looks the CVE up, tags the attribute and appends the summary", async () => {
  await using cve = await startCveRun({ params: { add_vulnerability_ttp: "yes" } });
  const { misp, sink, run } = cve;
  assert.equal(await cve.module.exec(run.context), true);
  assert.deepEqual(run.context.errors, []);
  assert.equal(sink.requests.length, 1);
  assert.equal(sink.requests[0]?.method, "GET");
  assert.equal(sink.requests[0]?.path, "/api/cve/CVE-2021-44228");
  const tags = [VULNERABILITY_TTP_TAG, "CVSS:10", 'misp:threat-level="high-risk"'];
  const summary =
    "CVE Summary: Apache Log4j2 2.0-beta9 through 2.15.0 JNDI features do not protect against attacker controlled LDAP endpoints.";
  assert.deepEqual(misp.requests.map((request) => [request.path, request.body]), [
    ...tags.map((
      tag,
    ) => ["/tags/attachTagToObject", { uuid: CVE_ATTRIBUTE_UUID, tag, local: true }]),
    ["/attributes/edit/300", { Attribute: { comment: summary } }],
  ]);
  const attribute = cveAttribute(run.data());
  assert.deepEqual((attribute.Tag as JsonObject[]).map((tag) => tag.name), tags);
  assert.equal(attribute.comment, summary);
  const stored = (misp.event("1")!.Attribute as JsonObject[]).find((item) => item.id === "300")!;
  assert.equal(stored.comment, summary);
  assert.deepEqual(run.records.map((record) => record.kind), [
    "http",
    "misp",
    "misp",
    "misp",
    "misp",
  ]);
  assert.ok(!JSON.stringify(run.records).includes(misp.apiKey));
});

Deno.test("tag_cve_from_enrichment tags an unknown score and keeps an existing summary", async () => {
  await using cve = await startCveRun({
    params: { locality: "global" },
    comment: "Known. CVE Summary: already there",
  });
  cve.sink.reply({ status: 200, body: JSON.stringify({ containers: { cna: {} } }) });
  assert.equal(await cve.module.exec(cve.run.context), true);
  assert.deepEqual(cve.misp.requests.map((request) => request.body), [
    { uuid: CVE_ATTRIBUTE_UUID, tag: "CVSS:unknown", local: false },
    { uuid: CVE_ATTRIBUTE_UUID, tag: 'misp:threat-level="unknown-risk"', local: false },
  ]);
  assert.equal(cveAttribute(cve.run.data()).comment, "Known. CVE Summary: already there");
});

Deno.test("tag_cve_from_enrichment leaves other attributes alone and fails with none to look up", async () => {
  await using misp = await startFakeMisp({ events: [await sightingEvent()] });
  await using sink = startWebhookSink();
  const module = createTagCveFromEnrichment({ lookupRoot: sink.url });
  const run = createNodeContext({
    module,
    data: coreFormat(await sightingEvent()),
    renderTemplate: (text) => text,
    services: {
      misp: createMispClient({ url: misp.url, apiKey: misp.apiKey, tlsVerify: true, retries: 0 }),
      outboundFetch: loopbackFetch(),
    },
  });
  assert.equal(await module.exec(run.context), false);
  assert.equal(sink.requests.length, 0);
  assert.equal(misp.requests.length, 0);
});

Deno.test("tag_cve_from_enrichment reports a refused lookup and retries a failing one", async (t) => {
  await t.step("404: an error, no tag", async () => {
    await using cve = await startCveRun();
    cve.sink.reply({ status: 404, body: '{"message":"Not found"}' });
    assert.equal(await cve.module.exec(cve.run.context), false);
    assert.deepEqual(cve.run.context.errors, [
      'Request failed with HTTP 404: {"message":"Not found"}',
    ]);
    assert.equal(cve.misp.requests.length, 0);
  });
  await t.step("503: transient", async () => {
    await using cve = await startCveRun();
    cve.sink.reply({ status: 503, body: "busy" });
    await assert.rejects(
      () => cve.module.exec(cve.run.context) as Promise<boolean>,
      (error) =>
        error instanceof TransientError && error.message === "Request failed with HTTP 503: busy",
    );
    assert.equal(cve.misp.requests.length, 0);
  });
});

Deno.test("tag_cve_from_enrichment records the lookup in a dry run and sends nothing", async () => {
  await using cve = await startCveRun({ dryRun: true });
  assert.equal(await cve.module.exec(cve.run.context), true);
  assert.equal(cve.sink.requests.length, 0);
  assert.equal(cve.misp.requests.length, 0);
  assert.equal(cve.run.records.length, 1);
  assert.equal(cve.run.records[0]?.dry, true);
  assert.equal(cve.run.records[0]?.method, "GET");
  assert.equal(cve.run.records[0]?.url, `${cve.sink.url}/api/cve/CVE-2021-44228`);
});

Deno.test("tagCveFromEnrichment looks CVEs up at CIRCL's Vulnerability-Lookup by default", async () => {
  const stored = await vulnerableEvent();
  const run = createNodeContext({
    module: tagCveFromEnrichment,
    data: coreFormat(stored),
    dryRun: true,
    renderTemplate: (text) => text,
  });
  assert.equal(await tagCveFromEnrichment.exec(run.context), true);
  assert.equal(run.records[0]?.url, "https://vulnerability.circl.lu/api/cve/CVE-2021-44228");
});

Deno.test("cveTags() maps the CVSS base score to MISP's threat levels", () => {
  assert.deepEqual(cveTags(7, false), ["CVSS:7", 'misp:threat-level="high-risk"']);
  assert.deepEqual(cveTags(6.9, false), ["CVSS:6.9", 'misp:threat-level="medium-risk"']);
  assert.deepEqual(cveTags(4, false), ["CVSS:4", 'misp:threat-level="medium-risk"']);
  assert.deepEqual(cveTags(3.9, true), [
    VULNERABILITY_TTP_TAG,
    "CVSS:3.9",
    'misp:threat-level="low-risk"',
  ]);
  assert.deepEqual(cveTags(null, false), ["CVSS:unknown", 'misp:threat-level="unknown-risk"']);
});

Deno.test("parseCveRecord(), cveSummary() and cvssBaseScore() read MISP's record shapes", async (t) => {
  await t.step("JSON wrapped in a JSON string", () => {
    assert.deepEqual(parseCveRecord(JSON.stringify(JSON.stringify(LOG4SHELL))), LOG4SHELL);
  });
  await t.step("the first line that is a JSON object", () => {
    assert.deepEqual(parseCveRecord(`garbage\n${JSON.stringify({ a: 1 })}\n`), { a: 1 });
    assert.deepEqual(parseCveRecord("not json"), {});
  });
  await t.step("legacy CVE 4 descriptions and ADP scores", () => {
    const record = {
      x_legacyV4Record: { description: { description_data: [{ lang: "eng", value: "Old " }] } },
      containers: { cna: {}, adp: [{ metrics: [{ cvssV3: { baseScore: "5.3" } }] }] },
    };
    assert.equal(cveSummary(record), "Old");
    assert.equal(cvssBaseScore(record), 5.3);
    assert.equal(cveSummary({}), "No summary found");
    assert.equal(cvssBaseScore({}), null);
  });
});
