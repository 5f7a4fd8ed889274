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

/** Time allowed to fetch the misp-modules listing. */
export const ENRICHMENT_LIST_TIMEOUT_MS = 2_000;
/** How long a fetched listing is reused before asking again. */
export const ENRICHMENT_LIST_TTL_MS = 60_000;

/** Options of `createEnrichmentInputs`. */
export interface EnrichmentInputsOptions {
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
}

/**
 * A lookup over the misp-modules server at `baseUrl` (no trailing slash). The listing is fetched
 * once and reused for `ENRICHMENT_LIST_TTL_MS`; when the server cannot be read every module is
 * unknown (null), so the actions query every attribute as before rather than silently skip.
 */
export function createEnrichmentInputs(
  baseUrl: string,
  options: EnrichmentInputsOptions = {},
): EnrichmentInputs {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? ENRICHMENT_LIST_TIMEOUT_MS;
  let cached: { at: number; inputs: Map<string, string[]> } | undefined;

  async function load(): Promise<Map<string, string[]>> {
    if (cached && now() - cached.at < ENRICHMENT_LIST_TTL_MS) return cached.inputs;
    try {
      const response = await doFetch(`${baseUrl}/modules`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`misp-modules answered HTTP ${response.status}`);
      }
      cached = { at: now(), inputs: inputsByModule(await response.json()) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log.warn("Cannot read the misp-modules listing", { url: baseUrl, error: message });
      cached = { at: now(), inputs: new Map() };
    }
    return cached.inputs;
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
