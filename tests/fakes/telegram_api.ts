/**
 * A local fake of the Telegram Bot API's `sendMessage`, on 127.0.0.1 (port 0): records what it
 * receives and answers as Telegram does (`{ok, result}` or `{ok: false, error_code,
 * description}`): 401 for an unknown token, 400 for an unknown chat, 429 when told to.
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
  /** The next `count` calls answer 429 with `retry_after`. */
  rateLimitNext(count: number): void;
  close(): Promise<void>;
}

function failure(status: number, description: string) {
  return {
    status,
    body: JSON.stringify({ ok: false, error_code: status, description }),
  };
}

/** Starts the fake on a free port. */
export function startTelegramApi(options: TelegramApiOptions): TelegramApi {
  const sink = startWebhookSink();
  const messages: Record<string, unknown>[] = [];
  let limited = 0;
  sink.reply((request) => {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(request.path);
    if (!match || match[1] !== options.token) return failure(401, "Unauthorized");
    if (match[2] !== "sendMessage") return failure(404, "Not Found");
    if (limited > 0) {
      limited--;
      return failure(429, "Too Many Requests: retry after 1");
    }
    const body = JSON.parse(request.body || "{}") as Record<string, unknown>;
    if (!options.chats.includes(String(body.chat_id))) {
      return failure(400, "Bad Request: chat not found");
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
    rateLimitNext(count) {
      limited = count;
    },
    close: () => sink.close(),
    [Symbol.asyncDispose]: () => sink.close(),
  };
}
