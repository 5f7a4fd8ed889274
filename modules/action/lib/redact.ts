/**
 * Keeps secrets out of action records and error messages: values of params flagged `secret`, the
 * run's registered secrets, credentials in URLs and tokens carried in URL paths (Telegram's
 * `/bot<token>/`) or queries (`?token=`, `?sig=`).
 *
 * @module
 */

import type { ActionRecord, ModuleDescriptor } from "../../../engine/model.ts";
import { Redactor } from "../../../engine/redactor.ts";
import type { ModuleContext } from "../../../engine/module.ts";
import type { ModuleServices } from "../../../engine/module_services.ts";

/** What replaces a secret. */
export const REDACTED = "[redacted]";

/** Query parameter names whose values are treated as secrets. */
const SECRET_QUERY_NAMES =
  /^(token|access_token|api_?key|key|secret|password|passwd|sig|signature|auth|code)$/i;

/** Telegram-style bot tokens in a path: `/bot123456:ABC-def/`. */
const BOT_TOKEN_IN_PATH = /\/bot[^/?#]+/g;

/**
 * `url` with credentials, bot tokens in the path and secret-looking query values replaced by
 * `[redacted]`. Text that is not a URL gets only the path rule.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(BOT_TOKEN_IN_PATH, `/bot${REDACTED}`);
  }
  let redacted = `${parsed.protocol}//`;
  if (parsed.username || parsed.password) redacted += `${REDACTED}@`;
  redacted += parsed.host + parsed.pathname.replace(BOT_TOKEN_IN_PATH, `/bot${REDACTED}`);
  if (parsed.search) {
    const query = [...parsed.searchParams].map(([name, value]) =>
      `${encodeURIComponent(name)}=${
        SECRET_QUERY_NAMES.test(name) ? REDACTED : encodeURIComponent(value)
      }`
    );
    redacted += `?${query.join("&")}`;
  }
  return redacted + parsed.hash;
}

/**
 * How a call's URL is shown in records and messages: known secrets inside it replaced, then
 * `redactUrl`; when the whole URL is a secret (a Teams webhook URL), only its origin.
 */
export function displayUrl(url: string, redactor: Redactor): string {
  const text = redactor.text(url);
  if (text !== REDACTED) return redactUrl(text);
  try {
    return `${new URL(url).origin}/${REDACTED}`;
  } catch {
    return REDACTED;
  }
}

/** The values of the params `descriptor` flags `secret: true`, as strings (non-empty only). */
export function secretParamValues(
  descriptor: ModuleDescriptor,
  params: Record<string, unknown>,
): string[] {
  const values: string[] = [];
  for (const param of descriptor.params) {
    const value = params[param.id];
    if (!param.secret || value === undefined || value === null || value === "") continue;
    values.push(typeof value === "string" ? value : JSON.stringify(value));
  }
  return values;
}

/**
 * A redactor for one action node: the run's secrets plus the node's secret param values, both
 * read from its context. Use it on everything that leaves the action (records, errors, logs).
 */
export function createActionRedactor(
  descriptor: ModuleDescriptor,
  context: Pick<ModuleContext, "params"> & { services: Pick<ModuleServices, "secrets"> },
): Redactor {
  return new Redactor([
    ...context.services.secrets,
    ...secretParamValues(descriptor, context.params),
  ]);
}

/** `text` with registered secrets and URL-borne secrets removed. */
export function redactText(text: string, redactor: Redactor): string {
  return redactor.text(text).replace(BOT_TOKEN_IN_PATH, `/bot${REDACTED}`);
}

/** A copy of `record` whose URL, summary and details carry no secret. */
export function redactRecord(record: ActionRecord, redactor: Redactor): ActionRecord {
  const copy = { ...redactor.value(record) };
  if (copy.url !== undefined) copy.url = redactUrl(copy.url);
  copy.summary = redactText(copy.summary, redactor);
  return copy;
}
