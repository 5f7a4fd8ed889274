import assert from "node:assert/strict";
import {
  mattermostMessage,
  mattermostPostsUrl,
} from "../../../modules/action/mattermost_message.ts";
import { TransientError } from "../../../engine/module_errors.ts";
import { startWebhookSink } from "../../fakes/webhook_sink.ts";
import { createOutboundContext, loopbackFetch, sightingData } from "./outbound_test_context.ts";

const TOKEN = "mm-bot-token-secret-42";

Deno.test("mattermost posts to /api/v4/posts with the bot token", async () => {
  await using mattermost = startWebhookSink();
  mattermost.reply({ status: 201, body: '{"id":"p1"}' });
  const data = await sightingData();
  (data.Event as Record<string, unknown>).info = "**bold** _x_";
  const { context, records } = createOutboundContext({
    module: mattermostMessage,
    data,
    params: {
      mattermost_hostname: mattermost.url,
      bot_access_token: TOKEN,
      channel_id: "ch1",
      message_template: "New event: {{ Event.info }}",
    },
    services: { outboundFetch: loopbackFetch() },
  });
  assert.equal(await mattermostMessage.exec(context), true);
  const [request] = mattermost.requests;
  assert.equal(request?.method, "POST");
  assert.equal(request?.path, "/api/v4/posts");
  assert.equal(request?.headers.authorization, `Bearer ${TOKEN}`);
  assert.deepEqual(JSON.parse(request?.body ?? ""), {
    channel_id: "ch1",
    message: "New event: \\*\\*bold\\*\\* \\_x\\_",
  });
  assert.doesNotMatch(JSON.stringify(records), /token-secret/);
});

Deno.test("mattermostPostsUrl() accepts a host, a host and port, or a URL", () => {
  assert.equal(
    mattermostPostsUrl("example.mattermost.com"),
    "https://example.mattermost.com/api/v4/posts",
  );
  assert.equal(mattermostPostsUrl("mm.example:8065"), "https://mm.example:8065/api/v4/posts");
  assert.equal(mattermostPostsUrl("http://10.0.0.2:8065/x"), "http://10.0.0.2:8065/api/v4/posts");
});

Deno.test("mattermost fails when Mattermost refuses the post", async (t) => {
  await using mattermost = startWebhookSink();
  const exec = async () => {
    const { context } = createOutboundContext({
      module: mattermostMessage,
      data: { Event: {} },
      params: { mattermost_hostname: mattermost.url, bot_access_token: TOKEN, channel_id: "x" },
      services: { outboundFetch: loopbackFetch() },
    });
    return { result: await mattermostMessage.exec(context), errors: context.errors };
  };
  await t.step("403", async () => {
    mattermost.reply({
      status: 403,
      body:
        '{"id":"api.post.create_post.permissions","message":"You do not have the appropriate permissions."}',
    });
    assert.deepEqual(await exec(), {
      result: false,
      errors: [
        "Mattermost refused the post: HTTP 403: You do not have the appropriate permissions.",
      ],
    });
  });
  await t.step("502", async () => {
    mattermost.reply({ status: 502, body: "bad gateway" });
    await assert.rejects(exec(), TransientError);
  });
  await t.step("a private host is refused unless allowed", async () => {
    const { context } = createOutboundContext({
      module: mattermostMessage,
      data: { Event: {} },
      params: {
        mattermost_hostname: "http://10.0.0.2:8065",
        bot_access_token: TOKEN,
        channel_id: "x",
      },
      services: { outboundFetch: loopbackFetch() },
    });
    assert.equal(await mattermostMessage.exec(context), false);
    assert.match(context.errors[0] ?? "", /10\.0\.0\.2 is a private address/);
  });
});
