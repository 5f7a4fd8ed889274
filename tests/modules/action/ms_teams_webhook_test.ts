import assert from "node:assert/strict";
import { msTeamsWebhook } from "../../../modules/action/ms_teams_webhook.ts";
import { startWebhookSink } from "../../fakes/webhook_sink.ts";
import { createOutboundContext, loopbackFetch, sightingData } from "./outbound_test_context.ts";

Deno.test("ms-teams-webhook posts {text: JSON of the data} and hides the webhook URL", async () => {
  await using sink = startWebhookSink();
  const data = await sightingData();
  const url = `${sink.url}/webhookb2/abc@def/IncomingWebhook/0123456789abcdef/xyz`;
  const { context, records } = createOutboundContext({
    module: msTeamsWebhook,
    data,
    params: { url },
    services: { outboundFetch: loopbackFetch() },
  });
  assert.equal(await msTeamsWebhook.exec(context), true);
  const [request] = sink.requests;
  assert.equal(request?.method, "POST");
  assert.equal(request?.path, "/webhookb2/abc@def/IncomingWebhook/0123456789abcdef/xyz");
  assert.equal(request?.headers["content-type"], "application/json");
  const body = JSON.parse(request?.body ?? "");
  assert.deepEqual(Object.keys(body), ["text"]);
  assert.deepEqual(JSON.parse(body.text), data);
  assert.equal(records[0]?.url, `${sink.url}/[redacted]`);
  assert.doesNotMatch(JSON.stringify(records), /0123456789abcdef/);
});

Deno.test("ms-teams-webhook sends what data_extraction_path extracts", async () => {
  await using sink = startWebhookSink();
  const { context } = createOutboundContext({
    module: msTeamsWebhook,
    data: await sightingData(),
    params: { url: `${sink.url}/hook`, data_extraction_path: "Event.Attribute.{n}.value" },
    services: { outboundFetch: loopbackFetch() },
  });
  assert.equal(await msTeamsWebhook.exec(context), true);
  assert.equal(
    sink.requests[0]?.body,
    JSON.stringify({ text: JSON.stringify(["Value to test", "testvalue"]) }),
  );
});

Deno.test("ms-teams-webhook fails with Webhook's messages", async (t) => {
  await using sink = startWebhookSink();
  await t.step("no URL", async () => {
    const { context } = createOutboundContext({ module: msTeamsWebhook, data: {}, params: {} });
    assert.equal(await msTeamsWebhook.exec(context), false);
    assert.deepEqual(context.errors, ["URL not provided."]);
  });
  await t.step("401", async () => {
    sink.reply({ status: 401 });
    const { context } = createOutboundContext({
      module: msTeamsWebhook,
      data: {},
      params: { url: sink.url },
      services: { outboundFetch: loopbackFetch() },
    });
    assert.equal(await msTeamsWebhook.exec(context), false);
    assert.deepEqual(context.errors, ["Authentication failed."]);
  });
});
