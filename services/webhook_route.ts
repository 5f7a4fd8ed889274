/**
 * The contract between the HTTP server and a surface that takes webhooks through it (the chat
 * bots): the server asks the route to check the caller from the headers, reads the body within
 * the route's cap and timeouts only once they pass, then hands the request over. So no body byte
 * is read for a caller without credentials, and the surface never reads a body itself.
 *
 * @module
 */

import type { Context } from "hono";
import type { AppEnv } from "./context.ts";

/** Why a webhook request is refused before its body is read: the HTTP status and the error. */
export interface WebhookRefusal {
  /** 404: the platform is not configured; 401: credentials missing, wrong or stale. */
  status: 401 | 404;
  error: string;
}

/** A `POST` webhook another surface serves through the HTTP app. */
export interface WebhookRoute {
  /** The path, e.g. `/slack/events`. */
  path: string;
  /** Why the request is refused from its headers alone, or null to read its body and go on. */
  preflight(headers: Headers): WebhookRefusal | null | Promise<WebhookRefusal | null>;
  /** Handles the request; its body is already read within the cap, and can be read again. */
  handle(c: Context<AppEnv>): Promise<Response>;
}
