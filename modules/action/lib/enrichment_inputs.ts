/**
 * The attribute types each enrichment module accepts, from the misp-modules server's own listing
 * (`GET <url>/modules`, each module's `mispattributes.input`). MISP's `attach-enrichment` skips an
 * attribute whose type is not in that list (`_checkIfInputSupported`); Flowgate's enrichment
 * actions do the same through `services.enrichmentInputs`, in live and dry runs alike.
 *
 * @module
 */

import { log } from "../../../engine/log.ts";
import type { JsonObject } from "../../../engine/model.ts";
import type { ModuleContext } from "../../../engine/module.ts";
import type { EnrichmentInputs } from "../../../engine/module_services.ts";
import { isObject } from "./node_filters.ts";
import { redactUrl } from "./redact.ts";

/** Time allowed to fetch the misp-modules listing. */
export const ENRICHMENT_LIST_TIMEOUT_MS = 2_000;
/** How long a fetched listing is reused before asking again. */
export const ENRICHMENT_LIST_TTL_MS = 60_000;
/** Largest listing read (a real one, ~200 modules, is about 300 KB); a longer one is refused. */
export const MAX_ENRICHMENT_LIST_BYTES = 8_388_608;

/** Options of `createEnrichmentInputs`. */
export interface EnrichmentInputsOptions {
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
  /** Default: `MAX_ENRICHMENT_LIST_BYTES`. */
  maxBytes?: number;
}

/**
 * A lookup over the misp-modules server at `baseUrl` (no trailing slash). The listing is fetched
 * once and reused for `ENRICHMENT_LIST_TTL_MS`, and lookups made while it is being fetched wait for
 * that one fetch; when the server cannot be read (down, slow, too long an answer, not a listing)
 * every module is unknown (null), so the actions query every attribute as before rather than
 * silently skip.
 */
export function createEnrichmentInputs(
  baseUrl: string,
  options: EnrichmentInputsOptions = {},
): EnrichmentInputs {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? ENRICHMENT_LIST_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? MAX_ENRICHMENT_LIST_BYTES;
  let cached: { at: number; inputs: Map<string, string[]> } | undefined;
  let loading: Promise<Map<string, string[]>> | undefined;

  async function fetchListing(): Promise<Map<string, string[]>> {
    try {
      const response = await doFetch(`${baseUrl}/modules`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`misp-modules answered HTTP ${response.status}`);
      }
      cached = { at: now(), inputs: inputsByModule(JSON.parse(await boundedText(response))) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log.warn("Cannot read the misp-modules listing", { url: redactUrl(baseUrl), error: message });
      cached = { at: now(), inputs: new Map() };
    }
    return cached.inputs;
  }

  async function boundedText(response: Response): Promise<string> {
    const declared = Number(response.headers.get("Content-Length") ?? NaN);
    const tooLong = new RangeError(
      `the /modules listing is over ${maxBytes} bytes: is FLOWGATE_MISP_MODULES_URL misp-modules?`,
    );
    if (declared > maxBytes || response.body === null) {
      await response.body?.cancel();
      if (declared > maxBytes) throw tooLong;
      return "";
    }
    const decoder = new TextDecoder();
    const parts: string[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > maxBytes) throw tooLong; // leaving the loop cancels the stream
      parts.push(decoder.decode(chunk, { stream: true }));
    }
    parts.push(decoder.decode());
    return parts.join("");
  }

  function load(): Promise<Map<string, string[]>> {
    if (cached && now() - cached.at < ENRICHMENT_LIST_TTL_MS) return Promise.resolve(cached.inputs);
    loading ??= fetchListing().finally(() => loading = undefined);
    return loading;
  }

  return async (module) => (await load()).get(module) ?? null;
}

/** `name → mispattributes.input` for every module of a misp-modules `/modules` listing. */
export function inputsByModule(listing: unknown): Map<string, string[]> {
  const inputs = new Map<string, string[]>();
  if (!Array.isArray(listing)) return inputs;
  for (const module of listing) {
    if (!isObject(module) || typeof module.name !== "string") continue;
    const input = isObject(module.mispattributes) ? module.mispattributes.input : undefined;
    if (Array.isArray(input)) inputs.set(module.name, input.map(String));
  }
  return inputs;
}

/**
 * MISP's `_checkIfInputSupported` for each selected module: the attributes a module accepts (its
 * input types list their type), all of them when its input types are unknown (no lookup, module
 * not listed), plus the pairs skipped, for the trace.
 */
export async function supportedAttributes(
  context: ModuleContext,
  module: string,
  attributes: JsonObject[],
): Promise<{ accepted: JsonObject[]; skipped: JsonObject[] }> {
  const inputs = await context.services.enrichmentInputs?.(module) ?? null;
  if (inputs === null) return { accepted: attributes, skipped: [] };
  const accepted: JsonObject[] = [];
  const skipped: JsonObject[] = [];
  for (const attribute of attributes) {
    if (inputs.includes(String(attribute.type))) accepted.push(attribute);
    else skipped.push({ module, attribute_id: String(attribute.id), type: String(attribute.type) });
  }
  return { accepted, skipped };
}
