/**
 * Request bodies inside the app: every route reads its body through `boundRequestBody` (or the
 * `limitBody` middleware) after its authentication, so no byte is read for a caller that is
 * refused, and what is read is capped and timed. `trackRequestBodies` notes how far each body was
 * read, for `serve.ts` to decide whether the connection can be kept.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { readBodyBytes, type ReadBodyOptions } from "./body.ts";

/** How far the body of one request was read. */
export interface BodyProgress {
  /** A bounded read started. */
  started: boolean;
  /** The body was read to its end. */
  finished: boolean;
  /** The answer must reach the client whole, even if the body was left unread (MISP's `/query`). */
  keepAnswerWhole: boolean;
}

const progressOfRequest = new WeakMap<Request, BodyProgress>();
/** Requests whose body is bytes already read within a cap (`boundRequestBody`'s own). */
const boundedRequests = new WeakSet<Request>();

/** How far the body of `request` (as the server received it) was read, if it was tracked. */
export function bodyProgressOf(request: Request): BodyProgress | undefined {
  return progressOfRequest.get(request);
}

/** True when the headers announce a body (a length above zero, or chunked). */
export function declaresBody(headers: Headers): boolean {
  const length = headers.get("content-length");
  if (length !== null) return length.trim() !== "0";
  return headers.has("transfer-encoding");
}

/**
 * The app's first middleware: starts the progress record of a request that announces a body.
 * It reads nothing and does not touch the body stream, so a body nobody reads stays with the
 * HTTP server.
 */
export function trackRequestBodies(): MiddlewareHandler {
  return async (c, next) => {
    const raw = c.req.raw;
    if (declaresBody(raw.headers) && !progressOfRequest.has(raw)) {
      progressOfRequest.set(raw, { started: false, finished: false, keepAnswerWhole: false });
    }
    await next();
  };
}

/** Marks the request's answer as one that must reach the client whole (see `BodyProgress`). */
export function keepAnswerWhole(c: Context): void {
  const progress = progressOfRequest.get(c.req.raw);
  if (progress) progress.keepAnswerWhole = true;
}

/**
 * Reads the request body within `options` and puts the bytes back as the request's body, so
 * `c.req.text()`, `json()`, `parseBody()` and handlers given `c.req.raw` read them as before.
 * Calling it again on the same request does nothing.
 *
 * @returns the body's bytes
 * @throws {BodyTooLargeError} over the cap
 * @throws {BodyTimeoutError} when the body stalls or takes too long
 */
export async function boundRequestBody(
  c: Context,
  options: ReadBodyOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  const raw = c.req.raw;
  if (boundedRequests.has(raw)) return new Uint8Array(await raw.clone().arrayBuffer());
  const progress = progressOfRequest.get(raw);
  if (progress) progress.started = true;
  const bytes = await readBodyBytes(raw, options);
  if (progress) progress.finished = true;
  if (raw.method === "GET" || raw.method === "HEAD") return bytes;
  const bounded = new Request(raw, { body: bytes });
  boundedRequests.add(bounded);
  c.req.raw = bounded;
  return bytes;
}

/** `boundRequestBody` as a middleware, for every request of a route that has a body. */
export function limitBody(options: ReadBodyOptions): MiddlewareHandler {
  return async (c, next) => {
    if (declaresBody(c.req.raw.headers) || c.req.raw.body !== null) {
      await boundRequestBody(c, options);
    }
    await next();
  };
}
