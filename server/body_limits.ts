/**
 * The request body cap of every route, in one place, with the timeouts from the configuration.
 *
 * @module
 */

import type { ReadBodyOptions } from "./body.ts";
import type { Config } from "../services/config.ts";

/** Cap of admin API bodies (JSON, workflow uploads): 2 MiB, twice `MAX_WORKFLOW_BYTES`. */
export const ADMIN_API_BODY_BYTES = 2_097_152;
/** Cap of Slack and Telegram webhook bodies: 1 MiB (theirs are a few KiB). */
export const CHAT_BODY_BYTES = 1_048_576;
/** Cap of the console's sign-in form: 16 KiB (a token, a CSRF token and a path). */
export const SIGN_IN_BODY_BYTES = 16_384;
/** Cap of the console's other forms (workflow uploads among them): 2 MiB. */
export const CONSOLE_FORM_BODY_BYTES = 2_097_152;
/**
 * Largest unread rest of a request body left for the HTTP server to discard after the answer;
 * over it (or when the length is unknown) the connection is closed instead, since the server
 * would wait for every declared byte without a timeout.
 */
export const MAX_DISCARD_BYTES = 65_536;

/** The body cap and timeouts of each kind of route. */
export interface BodyLimits {
  /** `POST /query` (MISP's Action service). */
  misp: ReadBodyOptions;
  /** `POST /hooks/misp/:trigger`. */
  hooks: ReadBodyOptions;
  /** `/api/…`. */
  api: ReadBodyOptions;
  /** `POST /slack/events` and `POST /telegram`. */
  chat: ReadBodyOptions;
  /** `POST /sign-in`. */
  signIn: ReadBodyOptions;
  /** Every other console form. */
  consoleForm: ReadBodyOptions;
}

/** The body limits under `config` (`FLOWGATE_MAX_BODY_BYTES` and the body timeouts). */
export function bodyLimitsOf(
  config: Pick<Config, "maxBodyBytes" | "bodyIdleTimeoutMs" | "bodyTimeoutMs">,
): BodyLimits {
  const timeouts = {
    idleTimeoutMs: config.bodyIdleTimeoutMs,
    totalTimeoutMs: config.bodyTimeoutMs,
  };
  const configured = { maxBytes: config.maxBodyBytes, setting: "FLOWGATE_MAX_BODY_BYTES" };
  return {
    misp: { ...timeouts, ...configured, what: "MISP queries" },
    hooks: { ...timeouts, ...configured, what: "webhooks" },
    api: { ...timeouts, maxBytes: ADMIN_API_BODY_BYTES, what: "admin API requests" },
    chat: { ...timeouts, maxBytes: CHAT_BODY_BYTES, what: "chat webhooks" },
    signIn: { ...timeouts, maxBytes: SIGN_IN_BODY_BYTES, what: "the sign-in form" },
    consoleForm: { ...timeouts, maxBytes: CONSOLE_FORM_BODY_BYTES, what: "console forms" },
  };
}
