import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { renderTemplate } from "../../../engine/template.ts";
import {
  FLOWINTEL_CASE_TEMPLATE_UUID,
  flowintelCreateCase,
} from "../../../modules/action/flowintel_create_case.ts";
import { createMispClient } from "../../../modules/action/lib/misp_client.ts";
import { IntegrationMissingError } from "../../../engine/module_errors.ts";
import { type FakeMisp, startFakeMisp } from "../../fakes/misp_server.ts";
import { startWebhookSink } from "../../fakes/webhook_sink.ts";
import { coreFormat, sightingEvent } from "./misp_test_context.ts";
import { createNodeContext } from "./node_test_context.ts";
import { loopbackFetch } from "./outbound_test_context.ts";

const API_KEY = "W4PWn54LzJ71TY55PzxChVBl4tyPuIkMPZ5iC0hRrSkQGfjF0pTYLp6CnHBP";
const CASE_ID = "3f1c7d2e-5b8a-4c6d-9e0f-112233445566";
const EVENT_UUID = "5c6ab833-676c-42f3-95d2-034f0a00020f";

async function flowintelContext(
  options: {
    params: Record<string, unknown>;
    misp: FakeMisp | null;
    dryRun?: boolean;
  },
) {
  const { misp } = options;
  return createNodeContext({
    module: flowintelCreateCase,
    data: coreFormat(await sightingEvent()),
    params: options.params,
    dryRun: options.dryRun ?? false,
    renderTemplate,
    services: {
      misp: misp
        ? createMispClient({ url: misp.url, apiKey: misp.apiKey, tlsVerify: true, retries: 0 })
        : null,
      outboundFetch: loopbackFetch(),
      secrets: misp ? [misp.apiKey] : [],
    },
  });
}

Deno.test("flowintel-create-case creates the case and references it in the event", async () => {
  await using misp = await startFakeMisp({ events: [await sightingEvent()] });
  await using sink = startWebhookSink();
  sink.reply({ status: 201, body: JSON.stringify({ case_id: CASE_ID, message: "Created" }) });
  const run = await flowintelContext({
    params: { url: `${sink.url}/`, apikey: API_KEY, "case-name": "Case {{ Event.id }}" },
    misp,
  });
  const data = run.data();
  assert.equal(await flowintelCreateCase.exec(run.context), true);
  assert.deepEqual(run.context.errors, []);
  const [request] = sink.requests;
  assert.equal(request?.method, "POST");
  assert.equal(request?.path, "/api/case/create_with_event");
  assert.equal(request?.headers["x-api-key"], API_KEY);
  assert.equal(request?.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(request?.body ?? ""), {
    title: "Case 1",
    description: `Case created for MISP Event ${EVENT_UUID}`,
    ticket_id: EVENT_UUID,
    event: data,
    origin_url: null,
  });
  assert.equal(misp.requests.length, 1);
  assert.equal(misp.requests[0]?.path, "/objects/add/1");
  const attribute = (relation: string, type: string, category: string, value: string) => ({
    event_id: "1",
    type,
    category,
    object_relation: relation,
    to_ids: false,
    value,
  });
  assert.deepEqual(misp.requests[0]?.body, {
    Object: {
      name: "flowintel-case",
      "meta-category": "misc",
      description: "A case as defined by flowintel.",
      template_version: 5,
      template_uuid: FLOWINTEL_CASE_TEMPLATE_UUID,
      Attribute: [
        attribute("flowintel-url", "link", "External analysis", `${sink.url}/case/${CASE_ID}`),
        attribute("case-uuid", "text", "Other", CASE_ID),
        attribute("title", "text", "Other", "Case 1"),
      ],
    },
  });
  const objects = misp.event("1")!.Object as JsonObject[];
  assert.equal(objects.at(-1)?.name, "flowintel-case");
  assert.equal(JSON.stringify(run.data()), JSON.stringify(data), "MISP leaves the roaming data");
  const recorded = JSON.stringify(run.records);
  assert.ok(!recorded.includes(API_KEY));
  assert.ok(!recorded.includes(misp.apiKey));
  assert.deepEqual(run.records.map((record) => [record.kind, record.dry]), [
    ["http", false],
    ["misp", false],
  ]);
});

Deno.test("flowintel-create-case names the case after the event by default", async () => {
  await using sink = startWebhookSink();
  sink.reply({ status: 200, body: JSON.stringify({ case_id: CASE_ID }) });
  const run = await flowintelContext({
    params: { url: sink.url, apikey: API_KEY, "create-reference": "no" },
    misp: null,
  });
  assert.equal(await flowintelCreateCase.exec(run.context), true);
  assert.equal(JSON.parse(sink.requests[0]?.body ?? "").title, "This is the description");
});

Deno.test("flowintel-create-case refuses to start without URL, API key or MISP", async (t) => {
  await using sink = startWebhookSink();
  for (const params of [{ url: sink.url }, { apikey: API_KEY }]) {
    await t.step(`params ${Object.keys(params).join(", ")}`, async () => {
      const run = await flowintelContext({ params, misp: null });
      assert.equal(await flowintelCreateCase.exec(run.context), false);
      assert.deepEqual(run.context.errors, ["No URL or API Key"]);
    });
  }
  await t.step("a reference without MISP", async () => {
    const run = await flowintelContext({ params: { url: sink.url, apikey: API_KEY }, misp: null });
    await assert.rejects(
      () => flowintelCreateCase.exec(run.context) as Promise<boolean>,
      IntegrationMissingError,
    );
  });
  assert.equal(sink.requests.length, 0);
});

Deno.test("flowintel-create-case keeps the API key out of errors", async (t) => {
  await t.step("401: authentication failed, no reference", async () => {
    await using misp = await startFakeMisp({ events: [await sightingEvent()] });
    await using sink = startWebhookSink();
    sink.reply({ status: 401, body: "no" });
    const run = await flowintelContext({ params: { url: sink.url, apikey: API_KEY }, misp });
    assert.equal(await flowintelCreateCase.exec(run.context), false);
    assert.deepEqual(run.context.errors, ["Authentication failed."]);
    assert.equal(misp.requests.length, 0);
  });
  await t.step("400 echoing the key: redacted", async () => {
    await using misp = await startFakeMisp({ events: [await sightingEvent()] });
    await using sink = startWebhookSink();
    sink.reply({ status: 400, body: `bad key ${API_KEY}` });
    const run = await flowintelContext({ params: { url: sink.url, apikey: API_KEY }, misp });
    assert.equal(await flowintelCreateCase.exec(run.context), false);
    assert.equal(run.context.errors.length, 1);
    assert.ok(!run.context.errors[0]!.includes(API_KEY));
    assert.match(run.context.errors[0]!, /bad key \[redacted\]/);
  });
});

Deno.test("flowintel-create-case reports a reference MISP refused, without retrying", async (t) => {
  await t.step("MISP refuses the object", async () => {
    await using misp = await startFakeMisp({ events: [await sightingEvent()] });
    await using sink = startWebhookSink();
    sink.reply({ status: 200, body: JSON.stringify({ case_id: CASE_ID }) });
    misp.failNext({ status: 503 });
    const run = await flowintelContext({ params: { url: sink.url, apikey: API_KEY }, misp });
    assert.equal(await flowintelCreateCase.exec(run.context), false);
    assert.equal(run.context.errors.length, 1);
    assert.match(
      run.context.errors[0]!,
      new RegExp(`^Cannot reference Flowintel case "${CASE_ID}" in event "1": `),
    );
    assert.equal(sink.requests.length, 1);
  });
  await t.step("the answer has no case id", async () => {
    await using misp = await startFakeMisp({ events: [await sightingEvent()] });
    await using sink = startWebhookSink();
    sink.reply({ status: 200, body: "created" });
    const run = await flowintelContext({ params: { url: sink.url, apikey: API_KEY }, misp });
    assert.equal(await flowintelCreateCase.exec(run.context), false);
    assert.deepEqual(run.context.errors, [
      "Cannot reference the Flowintel case: the answer has no case_id",
    ]);
    assert.equal(misp.requests.length, 0);
  });
});

Deno.test("flowintel-create-case records both calls in a dry run and sends nothing", async () => {
  await using misp = await startFakeMisp({ events: [await sightingEvent()] });
  await using sink = startWebhookSink();
  const run = await flowintelContext({
    params: { url: sink.url, apikey: API_KEY },
    misp,
    dryRun: true,
  });
  assert.equal(await flowintelCreateCase.exec(run.context), true);
  assert.equal(sink.requests.length, 0);
  assert.equal(misp.requests.length, 0);
  assert.deepEqual(
    run.records.map((record) => [record.kind, record.dry, record.method, record.url]),
    [
      ["http", true, "POST", `${sink.url}/api/case/create_with_event`],
      ["misp", true, "POST", "/objects/add/1"],
    ],
  );
  assert.ok(!JSON.stringify(run.records).includes(API_KEY));
});
