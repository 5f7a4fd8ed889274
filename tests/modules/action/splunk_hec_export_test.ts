import assert from "node:assert/strict";
import { splunkHecExport } from "../../../modules/action/splunk_hec_export.ts";
import { TransientError } from "../../../engine/module_errors.ts";
import { startWebhookSink } from "../../fakes/webhook_sink.ts";
import { createOutboundContext, loopbackFetch, sightingData } from "./outbound_test_context.ts";

const TOKEN = "8f2b6c1e-hec-token-0001";
const TLS = {
  cert: await Deno.readTextFile(new URL("../../fakes/tls/cert.pem", import.meta.url)),
  key: await Deno.readTextFile(new URL("../../fakes/tls/key.pem", import.meta.url)),
};

Deno.test("splunk-hec-export sends the event with the HEC token", async () => {
  await using sink = startWebhookSink();
  sink.reply({ body: '{"text":"Success","code":0}' });
  const data = await sightingData();
  const { context, records } = createOutboundContext({
    module: splunkHecExport,
    data,
    params: {
      url: `${sink.url}/services/collector/event`,
      hec_token: TOKEN,
      source_type: "misp:event",
    },
    services: { outboundFetch: loopbackFetch() },
  });
  assert.equal(await splunkHecExport.exec(context), true);
  assert.equal(sink.requests.length, 1);
  const [request] = sink.requests;
  assert.equal(request?.method, "POST");
  assert.equal(request?.path, "/services/collector/event");
  assert.equal(request?.headers.authorization, `Splunk ${TOKEN}`);
  assert.equal(request?.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(request?.body ?? ""), { event: data, sourcetype: "misp:event" });
  assert.doesNotMatch(JSON.stringify(records), new RegExp(TOKEN));
});

Deno.test("splunk-hec-export sends one event per attribute and applies the extraction model", async () => {
  await using sink = startWebhookSink();
  const data = await sightingData();
  const { context } = createOutboundContext({
    module: splunkHecExport,
    data,
    params: {
      url: `${sink.url}/services/collector/event`,
      hec_token: TOKEN,
      event_per_attribute: "1",
      data_extraction_model: JSON.stringify({
        EventInfo: "Event.info",
        AttributeValue: "Attribute.value",
        Tags: "Event.Tag.{n}.name",
        Nothing: "Attribute.no_such_field",
      }),
    },
    services: { outboundFetch: loopbackFetch() },
  });
  assert.equal(await splunkHecExport.exec(context), true);
  assert.deepEqual(sink.requests.map((request) => JSON.parse(request.body)), [
    {
      event: {
        EventInfo: "This is the description",
        AttributeValue: "Value to test",
        Tags: 'misp-galaxy:botnet="Asprox"',
        Nothing: [],
      },
    },
    {
      event: {
        EventInfo: "This is the description",
        AttributeValue: "testvalue",
        Tags: 'misp-galaxy:botnet="Asprox"',
        Nothing: [],
      },
    },
  ]);
});

Deno.test("splunk-hec-export per attribute drops the attribute lists from the event", async () => {
  await using sink = startWebhookSink();
  const { context } = createOutboundContext({
    module: splunkHecExport,
    data: await sightingData(),
    params: { url: sink.url, hec_token: TOKEN, event_per_attribute: 1 },
    services: { outboundFetch: loopbackFetch() },
  });
  assert.equal(await splunkHecExport.exec(context), true);
  const first = JSON.parse(sink.requests[0]?.body ?? "").event;
  assert.equal(first.Attribute.value, "Value to test");
  assert.equal(first.Event.info, "This is the description");
  assert.equal("Attribute" in first.Event, false);
  assert.equal("_AttributeFlattened" in first.Event, false);
});

Deno.test("splunk-hec-export reports failures MISP loses", async (t) => {
  await using sink = startWebhookSink();
  const exec = async (params: Record<string, unknown>) => {
    const { context } = createOutboundContext({
      module: splunkHecExport,
      data: await sightingData(),
      params: { url: sink.url, hec_token: TOKEN, event_per_attribute: "1", ...params },
      services: { outboundFetch: loopbackFetch() },
    });
    return { result: await splunkHecExport.exec(context), errors: context.errors };
  };
  await t.step("no URL", async () => {
    assert.deepEqual(await exec({ url: "" }), { result: false, errors: ["URL not provided."] });
  });
  await t.step("no token", async () => {
    assert.deepEqual(await exec({ hec_token: "" }), {
      result: false,
      errors: ["Authorization token not provided."],
    });
  });
  await t.step("a bad token stops at the first event", async () => {
    sink.requests.length = 0;
    sink.reply({ status: 403, body: '{"text":"Invalid token","code":4}' });
    assert.deepEqual(await exec({}), { result: false, errors: ["Authentication failed."] });
    assert.equal(sink.requests.length, 1);
  });
  await t.step("a bad request quotes Splunk's answer", async () => {
    sink.reply({ status: 400, body: '{"text":"No data","code":5}' });
    assert.deepEqual(await exec({}), {
      result: false,
      errors: [
        'Something went wrong with the request or the remote side is having issues. Body returned: {"text":"No data","code":5}',
      ],
    });
  });
  await t.step("a busy server is transient", async () => {
    sink.reply({ status: 503, body: '{"text":"Server is busy","code":9}' });
    await assert.rejects(exec({}), TransientError);
  });
  await t.step("an invalid model", async () => {
    const outcome = await exec({ data_extraction_model: "{nope" });
    assert.equal(outcome.result, false);
    assert.match(outcome.errors[0] ?? "", /^Invalid data extraction model: /);
  });
});

Deno.test("splunk-hec-export honours verify_tls", async (t) => {
  await using sink = startWebhookSink({ tls: TLS });
  const exec = async (verify: string) => {
    const { context } = createOutboundContext({
      module: splunkHecExport,
      data: await sightingData(),
      params: {
        url: `https://127.0.0.1:${sink.port}/services/collector`,
        hec_token: TOKEN,
        verify_tls: verify,
      },
      services: { outboundFetch: loopbackFetch() },
    });
    return { result: await splunkHecExport.exec(context), errors: context.errors };
  };
  await t.step("verify", async () => {
    const outcome = await exec("1");
    assert.equal(outcome.result, false);
    assert.match(outcome.errors[0] ?? "", /TLS certificate refused/);
  });
  await t.step("do not verify", async () => {
    assert.deepEqual(await exec("0"), { result: true, errors: [] });
  });
});

Deno.test("splunk-hec-export in a dry run records every event it would send", async () => {
  await using sink = startWebhookSink();
  const { context, records } = createOutboundContext({
    module: splunkHecExport,
    data: await sightingData(),
    dryRun: true,
    params: { url: sink.url, hec_token: TOKEN, event_per_attribute: "1" },
    services: { outboundFetch: loopbackFetch() },
  });
  assert.equal(await splunkHecExport.exec(context), true);
  assert.equal(sink.requests.length, 0);
  assert.deepEqual(records.map((record) => [record.dry, record.details?.event]), [[true, 1], [
    true,
    2,
  ]]);
});
