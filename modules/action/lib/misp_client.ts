/**
 * The one client for MISP's REST API: key header, JSON, a timeout per call, retries with backoff
 * on 429, 5xx and wire failures, and errors that say whether MISP refused or the wire failed
 * (reference §3.1). The API key never appears in an error or a log line.
 *
 * @module
 */

import { log, registerSecret } from "../../../engine/log.ts";
import type { MispApi, MispRequestOptions } from "../../../engine/module_services.ts";

/** Default time one MISP call may take, retries excluded. */
export const MISP_TIMEOUT_MS = 10_000;

/** Default number of retries after the first attempt, for 429, 5xx and wire failures. */
export const MISP_RETRIES = 2;

/** Default first backoff delay; it doubles on every retry, with full jitter. */
export const MISP_RETRY_BASE_MS = 250;

/** Longest wait a `Retry-After` answer may impose before the client retries. */
export const MISP_RETRY_AFTER_CAP_MS = 5_000;

/** Longest part of MISP's answer quoted in an error message. */
const MAX_QUOTED_ANSWER = 500;

/** How a MISP call failed: MISP answered with an error, or no usable answer came back. */
export type MispErrorKind = "refused" | "wire";

/** Options of `MispError`. */
export interface MispErrorOptions extends ErrorOptions {
  kind: MispErrorKind;
  method: string;
  path: string;
  /** HTTP status MISP answered with (refusals only). */
  status?: number;
  /** MISP's own message (`message`, `errors`, or the text it sent). */
  mispMessage?: string;
  /** True when trying again later may succeed (429, 5xx, timeouts, connection failures). */
  transient: boolean;
}

/** A MISP call that failed, saying whether MISP refused (with its message) or the wire failed. */
export class MispError extends Error {
  /** `refused`: MISP answered an error status; `wire`: timeout, connection or unreadable answer. */
  readonly kind: MispErrorKind;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly mispMessage: string | undefined;
  readonly transient: boolean;

  /** Creates the error; the message is built by the client and never holds the API key. */
  constructor(message: string, options: MispErrorOptions) {
    super(message, { cause: options.cause });
    this.name = "MispError";
    this.kind = options.kind;
    this.method = options.method;
    this.path = options.path;
    this.status = options.status;
    this.mispMessage = options.mispMessage;
    this.transient = options.transient;
  }
}

/** Options of `createMispClient`. */
export interface MispClientOptions {
  /** Base URL of MISP (`MISP_URL`), e.g. `https://misp.example`. */
  url: string;
  /** API key (`MISP_API_KEY`), sent as `Authorization: <key>`. */
  apiKey: string;
  /** `MISP_TLS_VERIFY`; false accepts the certificates in `caCerts` (see README). */
  tlsVerify: boolean;
  /** PEM certificates to trust in addition to the system roots (MISP's self-signed one). */
  caCerts?: string[];
  timeoutMs?: number;
  retries?: number;
  retryBaseMs?: number;
  retryAfterCapMs?: number;
  /** Replaces the global `fetch` (tests). */
  fetch?: typeof fetch;
}

/**
 * Creates the MISP REST client. Every call sends the key, JSON headers and a timeout; 429, 5xx
 * and wire failures are retried with exponential backoff and jitter (honouring `Retry-After` up
 * to a cap); 4xx answers are not retried.
 */
export function createMispClient(options: MispClientOptions): MispApi {
  registerSecret(options.apiKey);
  const baseUrl = options.url.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? MISP_TIMEOUT_MS;
  const retries = options.retries ?? MISP_RETRIES;
  const retryBaseMs = options.retryBaseMs ?? MISP_RETRY_BASE_MS;
  const retryAfterCapMs = options.retryAfterCapMs ?? MISP_RETRY_AFTER_CAP_MS;
  const doFetch = options.fetch ?? fetch;
  const client = createTlsClient(options);
  const redact = (text: string): string =>
    options.apiKey === "" ? text : text.replaceAll(options.apiKey, "[redacted]");

  async function attempt(
    method: string,
    path: string,
    body: string | undefined,
    caller: AbortSignal | undefined,
  ) {
    const headers = {
      Authorization: options.apiKey,
      Accept: "application/json",
      "Content-Type": "application/json",
    };
    const init: RequestInit & { client?: Deno.HttpClient } = {
      method,
      headers,
      body,
      signal: caller
        ? AbortSignal.any([caller, AbortSignal.timeout(timeoutMs)])
        : AbortSignal.timeout(timeoutMs),
    };
    if (client) init.client = client;
    let response: Response;
    let text: string;
    try {
      response = await doFetch(baseUrl + path, init);
      text = await response.text();
    } catch (error) {
      const reason = caller?.aborted
        ? `aborted: ${redact(String(caller.reason))}`
        : error instanceof Error && error.name === "TimeoutError"
        ? `no answer within ${timeoutMs} ms`
        : redact(wireReason(error));
      throw new MispError(`MISP call "${method} ${path}" failed on the wire: ${reason}`, {
        kind: "wire",
        method,
        path,
        transient: true,
        cause: error,
      });
    }
    return { response, text };
  }

  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    requestOptions: MispRequestOptions = {},
  ): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const caller = requestOptions.signal;
    for (let attemptIndex = 0;; attemptIndex++) {
      let delayMs = backoffDelay(attemptIndex, retryBaseMs);
      let failure: MispError;
      try {
        const { response, text } = await attempt(method, path, payload, caller);
        if (response.ok) return decodeAnswer<T>(text, method, path, redact);
        failure = refusal(method, path, response.status, redact(text));
        const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
        if (retryAfter !== undefined) delayMs = Math.min(retryAfter, retryAfterCapMs);
      } catch (error) {
        if (!(error instanceof MispError)) throw error;
        failure = error;
      }
      if (!failure.transient || attemptIndex >= retries || caller?.aborted) throw failure;
      log.warn("MISP call failed, retrying", {
        method,
        path,
        status: failure.status,
        attempt: attemptIndex + 1,
        delay_ms: delayMs,
      });
      await pause(delayMs, caller);
    }
  }

  return { request };
}

/** Waits before a retry; an abort ends the wait early (the next attempt then fails at once). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

function createTlsClient(options: MispClientOptions): Deno.HttpClient | undefined {
  if (options.caCerts?.length) return Deno.createHttpClient({ caCerts: options.caCerts });
  if (!options.tlsVerify) {
    log.warn(
      "MISP_TLS_VERIFY is false but Deno cannot skip certificate checks per client: give MISP's certificate in MISP_CA_CERT or start Deno with --unsafely-ignore-certificate-errors=<misp host>",
    );
  }
  return undefined;
}

/** The wire failure in words, with the fix when MISP's certificate does not verify. */
function wireReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : "";
  const text = cause && !message.includes(cause) ? `${message}: ${cause}` : message;
  return /certificate/i.test(text)
    ? `${text} (give MISP's certificate in MISP_CA_CERT if it is self-signed)`
    : text;
}

function decodeAnswer<T>(
  text: string,
  method: string,
  path: string,
  redact: (text: string) => string,
): T {
  if (text.trim() === "") return null as T;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new MispError(
      `MISP call "${method} ${path}" failed: the answer is not JSON: "${
        redact(text.slice(0, 200)).slice(0, 80)
      }" (is MISP_URL pointing at MISP?)`,
      { kind: "wire", method, path, transient: false, cause: error },
    );
  }
}

function refusal(method: string, path: string, status: number, text: string): MispError {
  const mispMessage = mispMessageOf(text);
  const transient = status === 429 || status >= 500;
  return new MispError(
    `MISP refused "${method} ${path}" (HTTP ${status}): ${mispMessage || "no message"}`,
    { kind: "refused", method, path, status, mispMessage, transient },
  );
}

/** Extracts MISP's message from an error answer: `message` plus `errors`, or the raw text. */
export function mispMessageOf(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text.trim().slice(0, MAX_QUOTED_ANSWER);
  }
  if (typeof parsed !== "object" || parsed === null) return String(parsed);
  const answer = parsed as Record<string, unknown>;
  const parts: string[] = [];
  const message = answer.message ?? answer.name;
  if (typeof message === "string" && message !== "") parts.push(message);
  const errors = answer.errors;
  if (errors !== undefined && errors !== null && errors !== "" && errors !== message) {
    parts.push(typeof errors === "string" ? errors : JSON.stringify(errors));
  }
  const joined = parts.length > 0 ? parts.join(": ") : JSON.stringify(answer);
  return joined.slice(0, MAX_QUOTED_ANSWER);
}

function backoffDelay(attemptIndex: number, baseMs: number): number {
  const ceiling = baseMs * 2 ** attemptIndex;
  return Math.round(ceiling / 2 + Math.random() * ceiling / 2);
}

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
