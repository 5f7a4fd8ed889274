/**
 * One MISP REST call made by an action module, with its record: the dry path records exactly the
 * call it would make and makes none; the live path makes it and records it as done. Transient
 * failures become `TransientError` so the queue retries the node.
 *
 * @module
 */

import type { JsonObject } from "../../../engine/model.ts";
import { sha256Hex } from "../../../engine/digest.ts";
import { IntegrationMissingError, TransientError } from "../../../engine/module_errors.ts";
import type { ModuleContext } from "../../../engine/module.ts";
import { MispError } from "./misp_client.ts";

/** The setting a MISP-operation module needs, as its error says it. */
export const MISP_SETTINGS = "MISP_URL and MISP_API_KEY";

/** One call to MISP's REST API. */
export interface MispCall {
  method: "GET" | "POST";
  /** Path under `MISP_URL`, e.g. `/attributes/edit/12`. */
  path: string;
  body?: unknown;
  /** One line for humans: `Set to_ids on attribute 12`. */
  summary: string;
  /** Structured details for the trace (tag names, attribute ids…). */
  details?: JsonObject;
}

/**
 * Fails the node when MISP is not configured, unless it is a dry run (which calls nothing).
 *
 * @throws {IntegrationMissingError} "This module needs MISP_URL and MISP_API_KEY to be set"
 */
export function requireMisp(context: ModuleContext): void {
  if (!context.dryRun && context.services.misp === null) {
    throw new IntegrationMissingError(MISP_SETTINGS);
  }
}

/**
 * Makes (or, in a dry run, records without making) one MISP call. Resolves with MISP's decoded
 * answer, or `undefined` in a dry run.
 *
 * @throws {TransientError} on 429, 5xx and wire failures (cause: the `MispError`)
 * @throws {MispError} when MISP refuses (4xx) with its message
 */
export async function callMisp<T = unknown>(
  context: ModuleContext,
  call: MispCall,
): Promise<T | undefined> {
  const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
  const record = {
    kind: "misp",
    method: call.method,
    url: call.path,
    summary: `${call.method} ${call.path}: ${call.summary}`,
    details: { endpoint: endpointOf(call.path), ...call.details },
    ...(payload === undefined ? {} : { body_digest: await sha256Hex(payload) }),
  };
  if (context.dryRun) {
    context.record({ ...record, dry: true });
    return undefined;
  }
  const misp = context.services.misp;
  if (misp === null) throw new IntegrationMissingError(MISP_SETTINGS);
  let answer: T;
  try {
    answer = await misp.request<T>(call.method, call.path, call.body, {
      signal: context.signal,
    });
  } catch (error) {
    if (error instanceof MispError && error.transient) {
      throw new TransientError(error.message, { cause: error });
    }
    throw error;
  }
  context.record({ ...record, dry: false });
  return answer;
}

/** The MISP endpoint of a path without its ids: `/attributes/edit/12` → `/attributes/edit`. */
export function endpointOf(path: string): string {
  const [controller = "", action = ""] = path.split("/").filter((part) => part !== "");
  return action === "" ? `/${controller}` : `/${controller}/${action}`;
}
