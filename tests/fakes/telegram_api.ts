/**
 * A local fake of the Telegram Bot API on 127.0.0.1 (port 0): `sendMessage`, `editMessageText`,
 * `answerCallbackQuery`, `setWebhook`, `deleteWebhook`, `getMe` and `getUpdates`. Records what it
 * receives and answers as Telegram does (`{ok, result}` or `{ok: false, error_code, description}`):
 * 401 for an unknown token, 400 for an unknown chat, 409 for `getUpdates` while a webhook is set,
 * 429 or any other error status when told to, 404 for other methods. `getUpdates` is a long poll:
 * it answers the queued updates from `offset` on (dropping those below, which it confirms), or
 * waits up to its `timeout` for `pushUpdate`.
 *
 * ```ts
 * await using telegram = startTelegramApi({ token: "123:ABC", chats: ["-100"] });
 * // POST `${telegram.url}/bot123:ABC/sendMessage` {"chat_id": "-100", "text": "hi"}
 * telegram.messages[0]; // { chat_id: "-100", text: "hi", … }
 * ```
 *
 * @module
 */

import { type SinkRequest, startWebhookSink } from "./webhook_sink.ts";

/** Options of `startTelegramApi`. */
export interface TelegramApiOptions {
  /** The only bot token accepted. */
  token: string;
  /** Chat ids that exist. */
  chats: string[];
}

/** A running fake Bot API. */
export interface TelegramApi extends AsyncDisposable {
  url: string;
  /** Every HTTP request, as the sink recorded it. */
  requests: SinkRequest[];
  /** Bodies of accepted `sendMessage` calls. */
  messages: Record<string, unknown>[];
  /** Every accepted Bot API call, in order: method and decoded payload. */
  calls: { method: string; payload: Record<string, unknown> }[];
  /** The next `count` calls answer 429 with `retry_after`. */
  rateLimitNext(count: number): void;
  /**
   * The next `count` calls (of `method` only, when given) answer `status` (e.g. 400 or 500) with
   * `ok: false`.
   */
  failNext(count: number, status: number, method?: string): void;
  /** Queues an update for `getUpdates`, answering a waiting long poll at once. */
  pushUpdate(update: Record<string, unknown>): void;
  /** The webhook URL `setWebhook` set (empty once `deleteWebhook` removed it). */
  webhookUrl(): string;
  close(): Promise<void>;
}

function failure(status: number, description: string) {
  return {
    status,
    body: JSON.stringify({ ok: false, error_code: status, description }),
  };
}

const KNOWN_METHODS = new Set([
  "sendMessage",
  "editMessageText",
  "answerCallbackQuery",
  "setWebhook",
  "deleteWebhook",
  "getMe",
  "getUpdates",
]);
/** Longest long poll the fake holds, whatever `timeout` asks (Telegram's own limit is 50 s). */
const MAX_POLL_S = 50;
const CHAT_METHODS = new Set(["sendMessage", "editMessageText"]);

function resultOf(method: string, body: Record<string, unknown>): unknown {
  if (method === "getMe") {
    return { id: 1, "is_bot": true, "first_name": "Flowgate", username: "flowgate_test_bot" };
  }
  if (method === "editMessageText") {
    return { "message_id": body.message_id, chat: { id: Number(body.chat_id) }, text: body.text };
  }
  return true;
}

/** Starts the fake on a free port. */
export function startTelegramApi(options: TelegramApiOptions): TelegramApi {
  const sink = startWebhookSink();
  const messages: Record<string, unknown>[] = [];
  const calls: { method: string; payload: Record<string, unknown> }[] = [];
  let limited = 0;
  let failing: { count: number; status: number; method?: string } = { count: 0, status: 500 };
  let webhook = "";
  let updates: Record<string, unknown>[] = [];
  const pollers = new Set<() => void>();
  const wakePollers = () => {
    for (const wake of pollers) wake();
    pollers.clear();
  };

  const getUpdates = async (body: Record<string, unknown>) => {
    if (webhook !== "") {
      return failure(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to " +
          "delete the webhook first",
      );
    }
    const offset = Number(body.offset ?? 0);
    updates = updates.filter((update) => Number(update.update_id) >= offset);
    const timeoutS = Math.min(Number(body.timeout ?? 0), MAX_POLL_S);
    if (updates.length === 0 && timeoutS > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, timeoutS * 1_000);
        function wake() {
          clearTimeout(timer);
          pollers.delete(wake);
          resolve();
        }
        pollers.add(wake);
      });
    }
    const limit = Number(body.limit ?? 100) || 100;
    return { body: JSON.stringify({ ok: true, result: updates.slice(0, limit) }) };
  };

  const close = () => {
    // A long poll still waiting answers now, so the server can shut down.
    wakePollers();
    return sink.close();
  };
  sink.reply((request) => {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(request.path);
    if (!match || match[1] !== options.token) return failure(401, "Unauthorized");
    const method = match[2]!;
    if (!KNOWN_METHODS.has(method)) return failure(404, "Not Found");
    if (limited > 0) {
      limited--;
      return failure(429, "Too Many Requests: retry after 1");
    }
    if (failing.count > 0 && (failing.method === undefined || failing.method === method)) {
      failing.count--;
      return failure(failing.status, `Failing on request (${failing.status})`);
    }
    const body = JSON.parse(request.body || "{}") as Record<string, unknown>;
    if (CHAT_METHODS.has(method) && !options.chats.includes(String(body.chat_id))) {
      return failure(400, "Bad Request: chat not found");
    }
    calls.push({ method, payload: body });
    if (method === "setWebhook") webhook = String(body.url ?? "");
    if (method === "deleteWebhook") webhook = "";
    if (method === "getUpdates") return getUpdates(body);
    if (method !== "sendMessage") {
      return { body: JSON.stringify({ ok: true, result: resultOf(method, body) }) };
    }
    messages.push(body);
    return {
      body: JSON.stringify({
        ok: true,
        result: {
          message_id: messages.length,
          chat: { id: Number(body.chat_id) },
          text: body.text,
        },
      }),
    };
  });
  return {
    url: sink.url,
    requests: sink.requests,
    messages,
    calls,
    rateLimitNext(count) {
      limited = count;
    },
    failNext(count, status, method) {
      failing = { count, status, ...(method === undefined ? {} : { method }) };
    },
    pushUpdate(update) {
      updates.push(update);
      wakePollers();
    },
    webhookUrl: () => webhook,
    close,
    [Symbol.asyncDispose]: close,
  };
}
