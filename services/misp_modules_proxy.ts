/**
 * A client of an existing misp-modules server (`FLOWGATE_MISP_MODULES_URL`): MISP takes one Action
 * service, so Flowgate lists that server's action modules next to its own and forwards their
 * `/query` calls unchanged.
 *
 * @module
 */

import { log } from "../engine/log.ts";

/** Time allowed to fetch the upstream `/modules` (MISP itself gives Flowgate 1 s in total). */
export const PROXY_LIST_TIMEOUT_MS = 600;
/** Time allowed for a forwarded `/query` (MISP's `Plugin.Action_timeout` default is 10 s). */
export const PROXY_QUERY_TIMEOUT_MS = 9_000;
/** How long a fetched module list is reused before asking again. */
export const PROXY_LIST_TTL_MS = 30_000;

/** What `/healthz` says about the upstream server. */
export interface ProxyHealth {
  url: string;
  reachable: boolean;
  modules: number;
  error?: string;
  checked_at?: string;
}

/** Options of `createMispModulesProxy`. */
export interface MispModulesProxyOptions {
  fetch?: typeof fetch;
  now?: () => number;
  listTimeoutMs?: number;
  queryTimeoutMs?: number;
}

/** The upstream misp-modules server as Flowgate uses it. */
export interface MispModulesProxy {
  /** The upstream's action-module descriptors (cached; empty when unreachable). */
  listActionModules(): Promise<Record<string, unknown>[]>;
  /** True when `name` is one of the upstream's action modules. */
  hasModule(name: string): Promise<boolean>;
  /** Forwards a `/query` body unchanged; answers the upstream's status and body, or 502 when it is unreachable. */
  query(body: string): Promise<{ status: number; body: string }>;
  /** Last known reachability (refreshes the list when stale). */
  health(): Promise<ProxyHealth>;
}

/** Builds the proxy for `baseUrl` (no trailing slash). */
export function createMispModulesProxy(
  baseUrl: string,
  options: MispModulesProxyOptions = {},
): MispModulesProxy {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const listTimeout = options.listTimeoutMs ?? PROXY_LIST_TIMEOUT_MS;
  const queryTimeout = options.queryTimeoutMs ?? PROXY_QUERY_TIMEOUT_MS;
  let cached: { at: number; modules: Record<string, unknown>[] } | undefined;
  let health: ProxyHealth = { url: baseUrl, reachable: false, modules: 0 };
  let inflight: Promise<Record<string, unknown>[]> | undefined;

  async function refresh(): Promise<Record<string, unknown>[]> {
    try {
      const response = await doFetch(`${baseUrl}/modules`, {
        signal: AbortSignal.timeout(listTimeout),
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`misp-modules answered HTTP ${response.status}`);
      }
      const listing: unknown = await response.json();
      if (!Array.isArray(listing)) throw new TypeError("misp-modules /modules is not a JSON array");
      const modules = listing.filter(isActionModule);
      cached = { at: now(), modules };
      health = {
        url: baseUrl,
        reachable: true,
        modules: modules.length,
        checked_at: new Date(now()).toISOString(),
      };
      return modules;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (health.reachable || health.error === undefined) {
        log.warn("misp-modules server unreachable", { url: baseUrl, error: message });
      }
      health = {
        url: baseUrl,
        reachable: false,
        modules: cached?.modules.length ?? 0,
        error: message,
        checked_at: new Date(now()).toISOString(),
      };
      // Keep serving the last good list: a blip upstream must not hide modules MISP's nodes use.
      if (cached) cached = { at: now(), modules: cached.modules };
      return cached?.modules ?? [];
    }
  }

  async function list(): Promise<Record<string, unknown>[]> {
    if (cached && now() - cached.at < PROXY_LIST_TTL_MS) return cached.modules;
    inflight ??= refresh().finally(() => inflight = undefined);
    return await inflight;
  }

  return {
    listActionModules: list,
    async hasModule(name) {
      return (await list()).some((module) => module.name === name);
    },
    async query(body) {
      try {
        const response = await doFetch(`${baseUrl}/query`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body,
          signal: AbortSignal.timeout(queryTimeout),
        });
        return { status: response.status, body: await response.text() };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log.warn("misp-modules query failed", { url: baseUrl, error: message });
        // 502 makes MISP treat the node as it treats an unreachable Action service (success), as
        // it would have without Flowgate in between.
        return {
          status: 502,
          body: JSON.stringify({ error: `misp-modules server unreachable: ${message}` }),
        };
      }
    },
    async health() {
      await list();
      return health;
    },
  };
}

function isActionModule(entry: unknown): entry is Record<string, unknown> {
  if (typeof entry !== "object" || entry === null) return false;
  const meta = (entry as { meta?: { "module-type"?: unknown } }).meta;
  const types = meta?.["module-type"];
  return Array.isArray(types) && types.includes("action");
}
