/**
 * `webhook` (Webhook, v0.7): calls a URL with the roaming data or a templated payload (reference
 * §2.2, §4.1). Also exports the request machinery the modules MISP derives from its Webhook class
 * (Teams, Telegram, Splunk) and the chat modules share: dry-run records, redaction, wire errors.
 *
 * @module
 */

import type { JsonObject, ModuleDescriptor } from "../../engine/model.ts";
import type { Redactor } from "../../engine/redactor.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import type { OutboundResponse } from "../../engine/module_services.ts";
import { IntegrationMissingError, TransientError } from "../../engine/module_errors.ts";
import { log } from "../../engine/log.ts";
import { sha256Hex } from "../../engine/digest.ts";
import { OutboundBlockedError } from "./lib/outbound.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { createActionRedactor, displayUrl, redactRecord, redactText } from "./lib/redact.ts";

/** `User-Agent` of every outbound action call (MISP sends `MISP <version> - #<commit>`). */
export const OUTBOUND_USER_AGENT = "Flowgate (MISP Workflows)";

/** Longest answer body quoted in an error message, in characters. */
const MAX_QUOTED_BODY = 2_000;

/** One HTTP call an action makes (or, in a dry run, would make). */
export interface HttpActionCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  allowSelfSigned?: boolean;
  /** Record kind: `http` (default) or `chat`. */
  kind?: string;
  /** Short word for the summary: `json`, `form`, `Telegram`… */
  label?: string;
  /** Extra structured details for the record (redacted before recording). */
  details?: JsonObject;
}

/** MISP's default Webhook headers, then `overrides` (names compared case-insensitively). */
export function webhookHeaders(
  contentType: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const headers: Record<string, string> = {
    Accept: "application/json",
    "Content-Type": contentType,
    "User-Agent": OUTBOUND_USER_AGENT,
  };
  for (const [name, value] of Object.entries(overrides)) {
    for (const existing of Object.keys(headers)) {
      if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
    }
    headers[name] = value;
  }
  return headers;
}

function formatSize(bytes: number): string {
  return bytes < 1_024 ? `${bytes} B` : `${(bytes / 1_024).toFixed(1)} KiB`;
}

/** An answer body short enough to quote in an error, secrets removed. */
export function quoteBody(body: string, redactor: Redactor): string {
  const text = body.length > MAX_QUOTED_BODY ? `${body.slice(0, MAX_QUOTED_BODY)}…` : body;
  return redactText(text, redactor);
}

/**
 * Records the call (dry or not) and, unless dry, sends it through `services.outboundFetch`.
 * Resolves with the answer, or null when nothing was sent: a dry run, or a refusal (blocked
 * address, refused certificate) whose MISP-style message is already in `context.errors`. Throws
 * `TransientError` (MISP's socket message, redacted) on timeouts and connection failures.
 */
export async function sendHttpAction(
  context: ModuleContext,
  call: HttpActionCall,
  redactor: Redactor,
): Promise<OutboundResponse | null> {
  const url = displayUrl(call.url, redactor);
  const size = call.body === undefined
    ? ""
    : `, ${formatSize(new TextEncoder().encode(call.body).byteLength)}`;
  context.record(redactRecord({
    kind: call.kind ?? "http",
    dry: context.dryRun,
    method: call.method,
    url,
    ...(call.body === undefined ? {} : { body_digest: await sha256Hex(call.body) }),
    summary: `${call.method} ${url} (${call.label ?? "http"}${size})`,
    details: {
      headers: Object.keys(call.headers),
      ...(call.allowSelfSigned ? { self_signed: "allow" } : {}),
      ...call.details,
    },
  }, redactor));
  if (context.dryRun) return null;
  const outboundFetch = context.services.outboundFetch;
  if (!outboundFetch) throw new IntegrationMissingError("outbound HTTP (services.outboundFetch)");
  try {
    return await outboundFetch({
      method: call.method,
      url: call.url,
      headers: call.headers,
      body: call.body,
      allowSelfSigned: call.allowSelfSigned,
    });
  } catch (error) {
    const message = redactText(error instanceof Error ? error.message : String(error), redactor);
    log.warn("Outbound action call failed", { module: context.node.module, error: message });
    if (error instanceof OutboundBlockedError) {
      context.errors.push(message);
      return null;
    }
    const misp = `Something went wrong while sending the request. Error returned: ${message}`;
    if (error instanceof TransientError) throw new TransientError(misp);
    context.errors.push(misp);
    return null;
  }
}

/** True for a 2xx answer, the only one MISP's outbound modules count as success. */
export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status < 300;
}

/** True for answers worth retrying: 429 and 5xx. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * MISP's Webhook verdict on an answer: 2xx → true; 401/403 → "Authentication failed."; 429 and
 * 5xx throw `TransientError`; anything else → the body-quoting message, false.
 */
export function judgeWebhookResponse(
  context: ModuleContext,
  response: OutboundResponse,
  redactor: Redactor,
): boolean {
  if (isSuccessStatus(response.status)) return true;
  if (response.status === 401 || response.status === 403) {
    context.errors.push("Authentication failed.");
    return false;
  }
  const message =
    `Something went wrong with the request or the remote side is having issues. Body returned: ${
      quoteBody(response.body, redactor)
    }`;
  if (isTransientStatus(response.status)) throw new TransientError(message);
  context.errors.push(message);
  return false;
}

/** MISP's header lines: `Name: value` per line, split at the first colon; blank lines skipped. */
export function parseHeaderLines(text: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of String(text ?? "").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    if (name !== "") headers[name] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** PHP's `http_build_query`: nested keys as `a[b][0]=v`, `+` for spaces, booleans as 1/0, nulls dropped. */
export function httpBuildQuery(data: unknown): string {
  const pairs: string[] = [];
  const encode = (text: string) => encodeURIComponent(text).replaceAll("%20", "+");
  const walk = (value: unknown, key: string) => {
    if (value === null || value === undefined) return;
    if (typeof value === "object") {
      for (const [child, item] of Object.entries(value)) walk(item, `${key}[${child}]`);
      return;
    }
    const text = typeof value === "boolean" ? (value ? "1" : "0") : String(value);
    pairs.push(`${encode(key)}=${encode(text)}`);
  };
  if (data !== null && typeof data === "object") {
    for (const [key, value] of Object.entries(data)) walk(value, key);
  }
  return pairs.join("&");
}

/** The JSON body MISP sends: the payload re-encoded when it parses, else a JSON string literal. */
function jsonBody(payload: unknown, data: JsonObject): string {
  if (typeof payload !== "string" || payload === "") return JSON.stringify(data);
  try {
    return JSON.stringify(JSON.parse(payload));
  } catch {
    return JSON.stringify(payload);
  }
}

const METHODS: Record<string, string> = {
  post: "POST",
  get: "GET",
  put: "PUT",
  delete: "DELETE",
};

const DESCRIPTOR: ModuleDescriptor = mispActionDescriptor({
  id: "webhook",
  name: "Webhook",
  version: "0.7",
  description: "Allow to perform custom callbacks to the provided URL",
  icon: "webhook.png",
  enabled_by_default: true,
  params: [
    {
      id: "url",
      label: "URL",
      type: "input",
      placeholder: "https://example.com/test",
      jinja_supported: true,
      required: true,
    },
    {
      id: "content_type",
      label: "Content type",
      type: "select",
      default: "json",
      options: { json: "application/json", form: "application/x-www-form-urlencoded" },
      strict_options: true,
    },
    {
      id: "request_method",
      label: "HTTP Request Method",
      type: "select",
      default: "post",
      options: { post: "POST", get: "GET", put: "PUT", delete: "DELETE" },
      strict_options: true,
    },
    {
      id: "self_signed",
      label: "Self-signed certificates",
      type: "select",
      default: "deny",
      options: { deny: "Deny self-signed certificates", allow: "Allow self-signed certificates" },
      strict_options: true,
    },
    {
      id: "payload",
      label: "Payload (leave empty for roaming data)",
      type: "textarea",
      default: "",
      placeholder: "",
      jinja_supported: true,
      escape: "json",
    },
    {
      id: "headers",
      label: "Headers",
      type: "textarea",
      placeholder: "Authorization: foobar",
      jinja_supported: true,
      secret: true,
    },
  ],
});

/** Header names whose values are credentials, kept out of records and errors. */
const SECRET_HEADER = /authorization|cookie|token|key|secret|password|signature/i;

/** Webhook: one call per execution; success on 2xx. */
export const webhook: WorkflowModule = {
  descriptor: DESCRIPTOR,
  async exec(context: ModuleContext): Promise<boolean> {
    const { params } = context;
    const redactor = createActionRedactor(DESCRIPTOR, context);
    const headers = parseHeaderLines(params.headers);
    for (const [name, value] of Object.entries(headers)) {
      if (!SECRET_HEADER.test(name)) continue;
      redactor.add(value);
      for (const part of value.split(/\s+/)) if (part.length >= 8) redactor.add(part);
    }
    const url = typeof params.url === "string" ? params.url.trim() : "";
    if (url === "") {
      context.errors.push("URL not provided.");
      return false;
    }
    const form = params.content_type === "form";
    const method = METHODS[String(params.request_method)] ?? "POST";
    const data = context.roaming.getData();
    let body: string | undefined;
    if (method !== "GET") {
      if (form) {
        body = typeof params.payload === "string" && params.payload !== ""
          ? params.payload
          : httpBuildQuery(data);
      } else {
        body = jsonBody(params.payload, data);
      }
    }
    const contentType = form ? "application/x-www-form-urlencoded" : "application/json";
    const response = await sendHttpAction(context, {
      method,
      url,
      headers: webhookHeaders(contentType, headers),
      body,
      allowSelfSigned: params.self_signed === "allow",
      label: form ? "form" : "json",
    }, redactor);
    if (!response) return context.dryRun;
    return judgeWebhookResponse(context, response, redactor);
  },
};
