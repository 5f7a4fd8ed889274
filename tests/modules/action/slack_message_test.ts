import assert from "node:assert/strict";
import { createSlackMessage } from "../../../modules/action/slack_message.ts";
import { TransientError } from "../../../engine/module_errors.ts";
import { startWebhookSink } from "../../fakes/webhook_sink.ts";
import { createOutboundContext, loopbackFetch, sightingData } from "./outbound_test_context.ts";

const TOKEN = "xoxb-1111-2222-secretslack";

Deno.test("slack posts chat.postMessage with the bot token and mrkdwn-escaped values", async () => {
  await using slack = startWebhookSink();
  slack.reply({ body: '{"ok":true,"channel":"C123","ts":"1.2"}' });
  const module = createSlackMessage({ apiUrl: `${slack.url}/api` });
  const data = await sightingData();
  (data.Event as Record<string, unknown>).info = "<!channel> & <https://evil|click>";
  const { context, records } = createOutboundContext({
    module,
    data,
    params: {
      slack_bot_token: TOKEN,
      channel_id: "C123",
      message_template: "*New event*: {{ Event.info }}",
    },
    services: { outboundFetch: loopbackFetch() },
  });
  assert.equal(await module.exec(context), true);
  const [request] = slack.requests;
  assert.equal(request?.method, "POST");
  assert.equal(request?.path, "/api/chat.postMessage");
  assert.equal(request?.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(request?.headers["content-type"], "application/json; charset=utf-8");
  assert.deepEqual(JSON.parse(request?.body ?? ""), {
    channel: "C123",
    text: "*New event*: &lt;!channel&gt; &amp; &lt;https://evil|click&gt;",
  });
  assert.equal(records[0]?.kind, "chat");
  assert.doesNotMatch(JSON.stringify(records), /secretslack/);
});

Deno.test("slack without a template posts the data as JSON in a code block", async () => {
  await using slack = startWebhookSink();
  slack.reply({ body: '{"ok":true}' });
  const module = createSlackMessage({ apiUrl: slack.url });
  const data = { Event: { id: "1", info: "x" } };
  const { context } = createOutboundContext({
    module,
    data,
    params: { slack_bot_token: TOKEN, channel_id: "C1" },
    services: { outboundFetch: loopbackFetch() },
  });
  assert.equal(await module.exec(context), true);
  assert.equal(
    JSON.parse(slack.requests[0]?.body ?? "").text,
    "```\n" + JSON.stringify(data) + "\n```",
  );
});

Deno.test("slack fails when Slack refuses the message", async (t) => {
  await using slack = startWebhookSink();
  const module = createSlackMessage({ apiUrl: slack.url });
  const exec = async () => {
    const { context } = createOutboundContext({
      module,
      data: { Event: {} },
      params: { slack_bot_token: TOKEN, channel_id: "C404", message_template: "hi" },
      services: { outboundFetch: loopbackFetch() },
    });
    return { result: await module.exec(context), errors: context.errors };
  };
  await t.step("ok: false", async () => {
    slack.reply({ body: '{"ok":false,"error":"channel_not_found"}' });
    assert.deepEqual(await exec(), {
      result: false,
      errors: ["Slack refused the message: channel_not_found"],
    });
  });
  await t.step("rate limited", async () => {
    slack.reply({ status: 429, body: '{"ok":false,"error":"ratelimited"}' });
    await assert.rejects(exec(), TransientError);
  });
  await t.step("dry run", async () => {
    const before = slack.requests.length;
    const { context, records } = createOutboundContext({
      module,
      data: { Event: {} },
      dryRun: true,
      params: { slack_bot_token: TOKEN, channel_id: "C1", message_template: "hi" },
      services: { outboundFetch: loopbackFetch() },
    });
    assert.equal(await module.exec(context), true);
    assert.equal(slack.requests.length, before);
    assert.equal(records[0]?.dry, true);
    assert.equal(records[0]?.details?.channel, "C1");
  });
});
