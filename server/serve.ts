/**
 * What `Deno.serve` runs around the app: the answer to a request whose body was left unread (the
 * caller was refused, the body was over its cap or stalled) closes the connection.
 *
 * Deno's HTTP/1 server keeps such a connection until every declared byte has arrived, with no
 * timeout, so a client announcing 32 MiB and sending one byte would hold it for good. Ending the
 * answer's stream with an error, once the answer is out, makes Deno close the connection instead.
 * Small unread rests (up to `MAX_DISCARD_BYTES` declared) are left to Deno, which discards them
 * and closes: an honest client then gets its answer complete. One case stays out of reach in
 * Deno 2.9: a body read parked in Deno when the idle timeout expires cannot be cancelled, and Deno
 * keeps that socket until the client leaves; the request is over by then and holds no buffer.
 *
 * @module
 */

import { log } from "../engine/log.ts";
import { declaredLength } from "./body.ts";
import { bodyProgressOf } from "./body_guard.ts";
import { MAX_DISCARD_BYTES } from "./body_limits.ts";

/** Statuses whose answers carry no body (nothing to end with an error). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** Ends an answer's stream on purpose so the HTTP server drops the connection. */
export class ConnectionClosedError extends Error {
  /** Creates the error. */
  constructor() {
    super("Connection closed after the answer: the request body was not read to its end");
    this.name = "ConnectionClosedError";
  }
}

/** Anything with Hono's `fetch`. */
export interface FetchApp {
  fetch(request: Request, info: Deno.ServeHandlerInfo): Response | Promise<Response>;
}

/**
 * The `Deno.serve` handler of `app`: its answer, made to close the connection when the request
 * body was left unread.
 */
export function createServeHandler(app: FetchApp): Deno.ServeHandler {
  return async (request, info) => finishAnswer(request, await app.fetch(request, info));
}

/**
 * `Deno.serve`'s `onError`: a connection closed on purpose is logged at debug level, anything
 * else as an error; the 500 only reaches the client when nothing was sent yet.
 */
export function handleServeError(error: unknown): Response {
  if (error instanceof ConnectionClosedError) {
    log.debug(error.message);
  } else {
    log.error("Request failed", {
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
  return Response.json({ error: "Internal error: see the server log" }, { status: 500 });
}

/** `response`, or a copy that closes the connection once sent when `request`'s body was left. */
export function finishAnswer(request: Request, response: Response): Response {
  const progress = bodyProgressOf(request);
  if (progress === undefined || progress.finished || progress.keepAnswerWhole) return response;
  if (!progress.started) {
    const declared = declaredLength(request.headers);
    if (declared !== undefined && declared <= MAX_DISCARD_BYTES) return response;
  }
  return closingAnswer(response);
}

/**
 * A copy of `response` whose body stream, after the last byte of the original, errors with
 * `ConnectionClosedError`. The error comes on a later read than the last chunk, so the chunk is
 * on the wire before Deno drops the connection.
 */
export function closingAnswer(response: Response): Response {
  if (NULL_BODY_STATUSES.has(response.status)) return response;
  const source = response.body?.getReader();
  let sourceDone = source === undefined;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sourceDone) {
        const { done, value } = await source!.read();
        if (!done) {
          controller.enqueue(value);
          return;
        }
        sourceDone = true;
      }
      controller.error(new ConnectionClosedError());
    },
    cancel(reason) {
      return source?.cancel(reason);
    },
  }, { highWaterMark: 0 });
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  headers.set("connection", "close");
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}
