import assert from "node:assert/strict";
import { type Logger, LogLevel } from "@slack/bolt";
import { createSlackSocket } from "../../bot/slack_socket.ts";
import { startSlackApi } from "../fakes/slack_api.ts";
import { startSlackSocket } from "../fakes/slack_socket.ts";
import { captureLogs } from "../fixtures/log_capture.ts";
import { waitFor } from "../fixtures/wait_for.ts";

const APP_TOKEN = "xapp-1-A0APP-hello-test";

/** Bolt's logger, silent. */
const QUIET: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

Deno.test("Slack Socket Mode gives up on a socket that never says hello and connects again", async () => {
  using logs = captureLogs();
  await using server = startSlackSocket({ hello: false });
  await using slack = startSlackApi({
    token: "xoxb-hello-test",
    socketMode: { appToken: APP_TOKEN, server },
  });
  const socket = createSlackSocket({
    appToken: APP_TOKEN,
    apiUrl: `${slack.url}/api`,
    logger: QUIET,
    retryMs: { first: 10, max: 20 },
    helloTimeoutMs: 200,
  });
  socket.start();
  try {
    await waitFor(() => server.connections() >= 3, {
      what: "two silent sockets given up on and a third one opened",
    });
    assert.notEqual(socket.state(), "connected");
    assert.ok(logs.lines.some((line) => /did not say hello within 200 ms/.test(line)));
    assert.ok(
      !logs.lines.some((line) => line.includes(APP_TOKEN)),
      "the app token reached the log",
    );
  } finally {
    await socket.stop();
  }
  assert.equal(socket.state(), "stopped");
});
