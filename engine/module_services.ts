/**
 * The outside world as modules see it. Implementations live next to their owners
 * (`modules/action/outbound.ts`, `modules/action/misp_client.ts`…); tests pass fakes of these
 * interfaces or real implementations pointed at local servers.
 *
 * @module
 */

import type { JsonObject, RunResult, TemplateEscape } from "./model.ts";
import type { ApprovalGate } from "./approval_gate.ts";

/** An outbound HTTP request to a URL that came from a workflow param. */
export interface OutboundRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Default: `OUTBOUND_TIMEOUT_MS`. */
  timeoutMs?: number;
  /** Default: `OUTBOUND_MAX_RESPONSE_BYTES`; a longer answer is cut and flagged. */
  maxResponseBytes?: number;
  /** MISP's `self_signed: allow`: accept a certificate that does not verify. */
  allowSelfSigned?: boolean;
}

/** The answer to an outbound request, body already read (and capped). */
export interface OutboundResponse {
  status: number;
  headers: Headers;
  body: string;
  truncated: boolean;
}

/**
 * Sends a request after checking the URL (and every redirect) against loopback, private,
 * link-local and metadata ranges. Throws `OutboundBlockedError` or a wire error.
 */
export type OutboundFetch = (request: OutboundRequest) => Promise<OutboundResponse>;

/** Options of one MISP call. */
export interface MispRequestOptions {
  /** Stops the call and its retries (the run's deadline: `ModuleContext.signal`). */
  signal?: AbortSignal;
}

/** MISP's REST API (`MISP_URL`, `MISP_API_KEY`). */
export interface MispApi {
  /** Calls MISP; resolves with the decoded JSON answer, throws `MispError` on refusal or wire failure. */
  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options?: MispRequestOptions,
  ): Promise<T>;
}

/** A mail to send. */
export interface MailMessage {
  to: string[];
  subject: string;
  text: string;
  html?: string;
  from?: string;
}

/** SMTP (`SMTP_URL`). */
export interface MailTransport {
  send(message: MailMessage): Promise<{ messageId: string }>;
}

/** A ZeroMQ publisher socket. */
export interface ZmqPublisher {
  publish(topic: string, message: string): Promise<void>;
}

/** Options for rendering a Jinja-compatible template. */
export interface TemplateOptions {
  escape?: TemplateEscape;
  /** Stops the render once aborted (the run's deadline: `ModuleContext.signal`). */
  signal?: AbortSignal;
  /**
   * `performance.now()` time the render must be done by (the verdict deadline): a render still
   * running then throws `TemplateError`, so its node fails instead of blocking the event loop.
   */
  deadline?: number;
}

/** Renders a template against the roaming data, sandboxed; throws `TemplateError` with the line. */
export type TemplateRenderer = (
  template: string,
  data: unknown,
  options?: TemplateOptions,
) => string;

/** Options of one nested workflow run (`run-workflow`). */
export interface NestedRunOptions {
  /** Name of the workflow whose node asks for the run (the re-entrancy guard starts there). */
  caller: string;
  /** Run the nested workflow as a dry run too. */
  dryRun?: boolean;
  /** The calling run's deadline. */
  signal?: AbortSignal;
}

/**
 * Runs another stored workflow by name on `data` and resolves with its result. Throws when the
 * workflow does not exist, is disabled, or is already running further up the chain.
 */
export type WorkflowRunner = (
  name: string,
  data: JsonObject,
  options: NestedRunOptions,
) => Promise<RunResult>;

/** Everything an action may use. Unset integrations are `null`: the module fails with a clear error. */
export interface ModuleServices {
  outboundFetch: OutboundFetch | null;
  misp: MispApi | null;
  mail: MailTransport | null;
  zmq: ZmqPublisher | null;
  renderTemplate: TemplateRenderer;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Values that must never appear in traces, logs or chat (API keys, tokens). */
  secrets: string[];
  /**
   * Flowgate's publish gate (`require-approval`): grants and approvals in KV. The server builds it
   * (`createApprovalService`); absent or null elsewhere (CLI dry runs), where the module can only
   * record that it would ask for approval.
   */
  approvals?: ApprovalGate | null;
  /**
   * Runs another Flowgate workflow (`run-workflow`). The server builds it
   * (`createWorkflowRunner`); absent or null elsewhere, where the module fails live.
   */
  runWorkflow?: WorkflowRunner | null;
  /**
   * The attribute types an enrichment module accepts (its misp-modules `mispattributes.input`),
   * or null when unknown. Enrichment actions skip other types, live and dry, as MISP's
   * `_checkIfInputSupported` does. Absent or null: every attribute is queried.
   */
  enrichmentInputs?: EnrichmentInputs | null;
}

/** Looks up the input types of an enrichment module by name; null when the module is unknown. */
export type EnrichmentInputs = (module: string) => Promise<string[] | null>;
