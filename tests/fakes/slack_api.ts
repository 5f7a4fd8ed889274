/**
 * A local fake of Slack's Web API and `response_url`s, on 127.0.0.1 (port 0): records every call
 * (method and decoded payload) and answers as Slack does (`{"ok": true, …}`, or `{"ok": false,
 * "error": "invalid_auth"}` for a wrong token). With `socketMode` (an app-level token and a fake
 * Socket Mode server, `slack_socket.ts`), `apps.connections.open` hands out that server's `ws://`
 * URLs; each kind of token used where the other belongs gets `not_allowed_token_type`.
 *
 * ```ts
 * await using slack = startSlackApi({ token: "xoxb-test" });
 * // Bolt: clientOptions.slackApiUrl = slack.apiUrl; slash command response_url = slack.responseUrl("1")
 * slack.calls; // [{ method: "chat.postMessage", payload: { channel: "C1", blocks: [...] } }]
 * ```
 *
 * @module
 */

import type { SlackSocketServer } from "./slack_socket.ts";
import { type SinkRequest, startWebhookSink } from "./webhook_sink.ts";

/** Options of `startSlackApi`. */
export interface SlackApiOptions {
  /** The only bot token accepted. */
  token: string;
  /**
   * Socket Mode: the only app-level token accepted (by `apps.connections.open` only) and the fake
   * server whose URLs it returns.
   */
  socketMode?: { appToken: string; server: Pick<SlackSocketServer, "issueUrl"> };
}

/** One recorded call. */
export interface SlackApiCall {
  /** Web API method (`chat.postMessage`) or `respond` for a `response_url` post. */
  method: string;
  payload: Record<string, unknown>;
  /** The `response_url` id for `respond` calls. */
  responseId?: string;
}

/** A running fake. */
export interface SlackApi extends AsyncDisposable {
  url: string;
  /** Base URL of the Web API, with the trailing slash Bolt expects. */
  apiUrl: string;
  /** Every Web API call and `response_url` post, in order. */
  calls: SlackApiCall[];
  /** A `response_url` served by this fake. */
  responseUrl(id: string): string;
  /** Refuses the app-level token from now on (`invalid_auth`), as after its revocation. */
  revokeAppToken(): void;
  close(): Promise<void>;
}

/** Decodes a Web API body: JSON, or form fields whose JSON values (blocks) are parsed. */
function decodePayload(request: SinkRequest): Record<string, unknown> {
  if (request.body === "") return {};
  if ((request.headers["content-type"] ?? "").includes("application/json")) {
    return JSON.parse(request.body);
  }
  const payload: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(request.body)) {
    payload[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return payload;
}

/** Starts the fake on a free port. */
export function startSlackApi(options: SlackApiOptions): SlackApi {
  const sink = startWebhookSink();
  const calls: SlackApiCall[] = [];
  let messages = 0;
  let appTokenRevoked = false;
  sink.reply((request) => {
    const respond = /^\/respond\/([^/]+)$/.exec(request.path);
    if (respond) {
      calls.push({ method: "respond", payload: decodePayload(request), responseId: respond[1]! });
      return { body: JSON.stringify({ ok: true }) };
    }
    const match = /^\/api\/([\w.]+)$/.exec(request.path);
    if (!match) {
      return { status: 404, body: JSON.stringify({ ok: false, error: "unknown_method" }) };
    }
    const method = match[1]!;
    const payload = decodePayload(request);
    const token = (request.headers["authorization"] ?? "").replace(/^Bearer /, "") ||
      String(payload.token ?? "");
    const appTokenCall = method === "apps.connections.open";
    const appToken = appTokenRevoked ? undefined : options.socketMode?.appToken;
    const expected = appTokenCall ? appToken : options.token;
    if (token !== expected) {
      const otherKind = token === (appTokenCall ? options.token : appToken);
      const error = otherKind ? "not_allowed_token_type" : "invalid_auth";
      return { body: JSON.stringify({ ok: false, error }) };
    }
    calls.push({ method, payload });
    switch (method) {
      case "auth.test":
        return {
          body: JSON.stringify({
            ok: true,
            "user_id": "U0BOT",
            "bot_id": "B0BOT",
            "team_id": "T0TEAM",
          }),
        };
      case "chat.postMessage": {
        messages++;
        const ts = `1700000000.${String(messages).padStart(6, "0")}`;
        return {
          body: JSON.stringify({
            ok: true,
            channel: payload.channel,
            ts,
            message: { text: payload.text, ts },
          }),
        };
      }
      case "chat.update":
        return {
          body: JSON.stringify({ ok: true, channel: payload.channel, ts: payload.ts }),
        };
      case "apps.connections.open":
        return { body: JSON.stringify({ ok: true, url: options.socketMode!.server.issueUrl() }) };
      case "chat.postEphemeral":
        return { body: JSON.stringify({ ok: true, "message_ts": "1700000000.999999" }) };
      default:
        return { body: JSON.stringify({ ok: true }) };
    }
  });
  return {
    url: sink.url,
    apiUrl: `${sink.url}/api/`,
    calls,
    responseUrl: (id) => `${sink.url}/respond/${id}`,
    revokeAppToken() {
      appTokenRevoked = true;
    },
    close: () => sink.close(),
    [Symbol.asyncDispose]: () => sink.close(),
  };
}
