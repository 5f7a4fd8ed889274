/**
 * The Slack bot: one set of Bolt listeners (the `/flowgate` command, card buttons, mentions) on
 * either transport. Over HTTP, Bolt sits behind `POST /slack/events` through a Hono-friendly
 * receiver: the raw body is read once and its signature checked (stale or future timestamps
 * refused), `url_verification` is answered, retries and replays are de-duplicated, and Bolt acks
 * within Slack's 3 s before the command or button work runs. Over Socket Mode (`slack_socket.ts`)
 * the same listeners get the envelopes of the WebSocket, de-duplicated the same way.
 *
 * @module
 */

import {
  App,
  type Logger,
  LogLevel,
  type Receiver,
  ReceiverMultipleAckError,
  verifySlackRequest,
} from "@slack/bolt";
import { log } from "../engine/log.ts";
import type { SlackMode } from "../services/config.ts";
import { claimChatDelivery } from "../store/chat_deliveries.ts";
import { pressButton } from "./buttons.ts";
import type { Card } from "./cards.ts";
import { runCommand } from "./commands.ts";
import type { ChatCore, ChatIdentity, ChatSender, RetryPauses } from "./core.ts";
import { createSlackSocket, type SlackSocket } from "./slack_socket.ts";
import { SLACK_ACTION_PREFIX, slackMessage } from "./slack_render.ts";

/** Oldest (and furthest in the future) request timestamp accepted, in seconds. */
export const SLACK_MAX_SKEW_S = 300;
/** How long the receiver waits for Bolt's ack before answering Slack itself. */
export const SLACK_ACK_TIMEOUT_MS = 2_500;
/** The slash command Flowgate answers. */
export const SLACK_COMMAND = "/flowgate";

/**
 * How Slack reaches the bot: signed requests to `POST /slack/events`, or Socket Mode with an
 * app-level token (`retryMs`: pauses between reconnections, shortened in tests).
 */
export type SlackTransport =
  | { mode: "http"; signingSecret: string }
  | { mode: "socket"; appToken: string; retryMs?: RetryPauses };

/** Options of `createSlackBot`. */
export interface SlackBotOptions {
  botToken: string;
  transport: SlackTransport;
  /** Web API base URL (`SLACK_API_URL`), for a local fake in tests. */
  apiUrl?: string;
  /** The bot's ids; when given, Bolt never calls `auth.test`. */
  botId?: string;
  botUserId?: string;
  /** Web API retries (Bolt's default policy when absent; tests pass 0). */
  retries?: number;
  /** Milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
}

/** A Slack bot: its transport, the sender announcements use. */
export interface SlackBot {
  mode: SlackMode;
  /** Handles one request to `/slack/events` (`http` mode; `null` in Socket Mode). */
  handle: ((request: Request) => Promise<Response>) | null;
  /** The Socket Mode connection (`socket` mode; `null` over HTTP), started by the chat. */
  socket: SlackSocket | null;
  sender: ChatSender;
}

/** Bolt's logger, writing through Flowgate's (so secrets are redacted). */
const BOLT_LOGGER: Logger = {
  debug: () => {},
  info: (...messages: unknown[]) => log.debug("Slack", { message: messages.map(String).join(" ") }),
  warn: (...messages: unknown[]) => log.warn("Slack", { message: messages.map(String).join(" ") }),
  error: (...messages: unknown[]) =>
    log.error("Slack", { message: messages.map(String).join(" ") }),
  setLevel: () => {},
  getLevel: () => LogLevel.INFO,
  setName: () => {},
};

/** Routes Bolt's receiver calls to `processEvent`; the HTTP side lives in `createSlackBot`. */
class HonoReceiver implements Receiver {
  #app: App | undefined;

  init(app: App): void {
    this.#app = app;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** Hands a verified body to Bolt; resolves with what the listener acked. */
  dispatch(body: Record<string, unknown>, retry: { num?: number; reason?: string }) {
    const app = this.#app;
    if (!app) throw new Error("Cannot dispatch a Slack request: the receiver has no app");
    const acked = Promise.withResolvers<unknown>();
    let isAcked = false;
    const processing = app.processEvent({
      body,
      ...(retry.num === undefined ? {} : { retryNum: retry.num }),
      ...(retry.reason === undefined ? {} : { retryReason: retry.reason }),
      ack: (response?: unknown) => {
        if (isAcked) throw new ReceiverMultipleAckError();
        isAcked = true;
        acked.resolve(response);
        return Promise.resolve();
      },
    });
    return { acked: acked.promise, processing };
  }
}

/** Builds the Slack bot and registers its sender with the chat core. */
export function createSlackBot(core: ChatCore, options: SlackBotOptions): SlackBot {
  const now = options.now ?? Date.now;
  const { transport } = options;
  const http = transport.mode === "http" ? new HonoReceiver() : null;
  const socket = transport.mode === "socket"
    ? createSlackSocket({
      appToken: transport.appToken,
      ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
      ...(transport.retryMs ? { retryMs: transport.retryMs } : {}),
      logger: BOLT_LOGGER,
    })
    : null;
  const receiver: Receiver = http ?? socket!.receiver;
  const app = new App({
    receiver,
    token: options.botToken,
    ...(options.botId ? { botId: options.botId } : {}),
    ...(options.botUserId ? { botUserId: options.botUserId } : {}),
    tokenVerificationEnabled: false,
    logger: BOLT_LOGGER,
    clientOptions: {
      ...(options.apiUrl ? { slackApiUrl: `${options.apiUrl.replace(/\/+$/, "")}/` } : {}),
      ...(options.retries === undefined ? {} : { retryConfig: { retries: options.retries } }),
      logger: BOLT_LOGGER,
    },
  });

  if (socket) {
    // Over HTTP the delivery is claimed before Bolt sees it; a socket envelope is claimed here, so
    // one Slack redelivers (not acknowledged in time, or sent again after a reconnection) does
    // nothing twice.
    app.use(async (args) => {
      const key = slackDeliveryKey(args.body as unknown as Record<string, unknown>);
      if (key && !(await claimChatDelivery(core.ctx.kv, "slack", key, { now: now() }))) {
        if ("ack" in args && typeof args.ack === "function") await args.ack();
        return;
      }
      await args.next();
    });
  }

  app.command(SLACK_COMMAND, async ({ command, ack, respond }) => {
    await ack();
    const identity: ChatIdentity = {
      platform: "slack",
      userId: command.user_id,
      chatId: command.channel_id,
      direct: command.channel_name === "directmessage",
    };
    const card = await runCommand(core, identity, command.text ?? "");
    await respond({
      ...slackMessage(card),
      "response_type": card.private ? "ephemeral" : "in_channel",
    });
  });

  app.action(
    new RegExp(`^${SLACK_ACTION_PREFIX}`),
    async ({ ack, body, action, respond, client }) => {
      await ack();
      if (body.type !== "block_actions" || action.type !== "button" || !("action_id" in action)) {
        return;
      }
      const channel = body.channel?.id ?? body.container?.channel_id ?? "";
      const identity: ChatIdentity = {
        platform: "slack",
        userId: body.user.id,
        chatId: channel,
        direct: channel.startsWith("D"),
      };
      const outcome = await pressButton(core, identity, {
        action: action.action_id.slice(SLACK_ACTION_PREFIX.length),
        runId: action.value ?? "",
      });
      if (outcome.reply && channel) {
        await client.chat.postMessage({
          channel,
          ...(body.message?.ts ? { "thread_ts": body.message.ts } : {}),
          ...slackMessage(outcome.reply),
        });
      }
      await respond({
        text: outcome.notice,
        "response_type": "ephemeral",
        "replace_original": false,
      });
    },
  );

  app.event("app_mention", async ({ event, client }) => {
    const text = event.text.replace(/<@[^>]+>/g, " ");
    const identity: ChatIdentity = {
      platform: "slack",
      userId: event.user ?? "",
      chatId: event.channel,
      direct: false,
    };
    const card = await runCommand(core, identity, text);
    await client.chat.postMessage({
      channel: event.channel,
      "thread_ts": event.thread_ts ?? event.ts,
      ...slackMessage(card),
    });
  });

  const sender: ChatSender = {
    platform: "slack",
    async postCard(chatId: string, card: Card): Promise<string> {
      const result = await app.client.chat.postMessage({ channel: chatId, ...slackMessage(card) });
      if (!result.ts) throw new Error(`Slack did not return a message ts for channel "${chatId}"`);
      return result.ts;
    },
    async editCard(chatId: string, messageId: string, card: Card): Promise<void> {
      await app.client.chat.update({ channel: chatId, ts: messageId, ...slackMessage(card) });
    },
  };
  core.senders.set("slack", sender);

  return {
    mode: transport.mode,
    sender,
    socket,
    handle: http && transport.mode === "http"
      ? (request) =>
        handleSlackRequest(core, http, request, {
          signingSecret: transport.signingSecret,
          now,
        })
      : null,
  };
}

async function handleSlackRequest(
  core: ChatCore,
  receiver: HonoReceiver,
  request: Request,
  options: { signingSecret: string; now: () => number },
): Promise<Response> {
  const raw = await request.text();
  const signature = request.headers.get("x-slack-signature") ?? "";
  const timestamp = Number(request.headers.get("x-slack-request-timestamp"));
  const nowMs = options.now();
  if (!Number.isInteger(timestamp) || Math.abs(nowMs / 1_000 - timestamp) > SLACK_MAX_SKEW_S) {
    return Response.json({ error: "Slack request timestamp missing, stale or in the future" }, {
      status: 401,
    });
  }
  try {
    verifySlackRequest({
      signingSecret: options.signingSecret,
      body: raw,
      headers: { "x-slack-signature": signature, "x-slack-request-timestamp": timestamp },
      nowMilliseconds: nowMs,
      logger: BOLT_LOGGER,
    });
  } catch {
    return Response.json({ error: "Slack request signature invalid" }, { status: 401 });
  }
  let body: Record<string, unknown>;
  try {
    body = parseSlackBody(raw, request.headers.get("content-type") ?? "");
  } catch (error) {
    if (!(error instanceof SlackBodyError)) throw error;
    return Response.json({ error: error.message }, { status: 400 });
  }
  if (body.type === "url_verification") return Response.json({ challenge: body.challenge });
  const deliveryKey = slackDeliveryKey(body);
  if (
    deliveryKey && !(await claimChatDelivery(core.ctx.kv, "slack", deliveryKey, { now: nowMs }))
  ) {
    // Already handled: acknowledge so Slack stops retrying, and do nothing more.
    return new Response(null, { status: 200 });
  }
  const retryNum = request.headers.get("x-slack-retry-num");
  const { acked, processing } = receiver.dispatch(body, {
    ...(retryNum === null ? {} : { num: Number(retryNum) }),
    ...(request.headers.has("x-slack-retry-reason")
      ? { reason: request.headers.get("x-slack-retry-reason")! }
      : {}),
  });
  // The listener's work continues after the ack; keep its errors in the log.
  processing.catch((error) => {
    log.error("Slack request processing failed", {
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), SLACK_ACK_TIMEOUT_MS);
  });
  const unhandled = processing.then(() => "done" as const, () => "done" as const);
  try {
    const first = await Promise.race([acked, timeout, unhandled]);
    if (first === "timeout") {
      return Response.json({ error: "Slack request not acknowledged in time" }, { status: 503 });
    }
    if (first === "done") {
      // Nothing acked (no listener matched); Slack still needs a 200 to stop retrying.
      return new Response(null, { status: 200 });
    }
    if (first === undefined || first === "") return new Response(null, { status: 200 });
    return typeof first === "string"
      ? new Response(first, { status: 200 })
      : Response.json(first, { status: 200 });
  } finally {
    clearTimeout(timer);
  }
}

/** A signed Slack request whose body is not one Slack sends; answered with a 400. */
class SlackBodyError extends SyntaxError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SlackBodyError";
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `JSON.parse` that must give an object; `what` names the text in the error. */
function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SlackBodyError(`${what} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!isObject(value)) throw new SlackBodyError(`${what} must be a JSON object`);
  return value;
}

/**
 * Parses JSON (Events API) or form data (slash commands; interactivity's `payload` field). Bolt
 * reads fields of the body without checking its shape, so anything else is refused here.
 *
 * @throws {SlackBodyError} when the body is none of those.
 */
function parseSlackBody(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.includes("application/x-www-form-urlencoded")) {
    const form = new URLSearchParams(raw);
    const payload = form.get("payload");
    if (payload !== null) return parseJsonObject(payload, "Slack interactivity payload");
    if (!form.has("command")) {
      throw new SlackBodyError(
        'Slack form body must carry a slash command ("command") or an interactivity "payload"',
      );
    }
    return Object.fromEntries(form);
  }
  return parseJsonObject(raw, "Slack event body");
}

/**
 * What makes a delivery unique: the Events API `event_id`, a button press (action, message,
 * user), a slash command's `trigger_id` (so a captured request replayed within the signature
 * window does nothing).
 */
function slackDeliveryKey(body: Record<string, unknown>): string | undefined {
  if (typeof body.event_id === "string") return `event:${body.event_id}`;
  if (body.type === "block_actions") {
    const action = (body.actions as { action_id?: string }[] | undefined)?.[0];
    const container = body.container as { message_ts?: string } | undefined;
    const message = body.message as { ts?: string } | undefined;
    const user = body.user as { id?: string } | undefined;
    return `action:${action?.action_id}:${container?.message_ts ?? message?.ts}:${user?.id}`;
  }
  if (typeof body.command === "string" && typeof body.trigger_id === "string") {
    return `command:${body.trigger_id}`;
  }
  return undefined;
}
