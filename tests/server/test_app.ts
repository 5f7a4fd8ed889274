/**
 * A Flowgate app on a fresh `:memory:` KV for route tests, wired as `main.ts` wires it: one app
 * context (`createAppContext`), the chat on it, the app over both. Config from a plain record,
 * module services with every integration off (unless a test passes its own), an admin token, and
 * the connection info `Deno.serve` would pass as `c.env`.
 *
 * @module
 */

import { offlineServices } from "../../modules/offline_services.ts";
import type { Hono } from "hono";
import { type Chat, type ChatOptions, createChat } from "../../bot/chat_routes.ts";
import type { ModuleLookup } from "../../engine/walker.ts";
import type { ModuleServices } from "../../engine/module_services.ts";
import { ensureAdminToken } from "../../store/admin_token.ts";
import { createApp } from "../../server/app.ts";
import { type Config, configSecrets, loadConfig } from "../../services/config.ts";
import { type AppContext, type AppEnv, createAppContext } from "../../services/context.ts";
import { Metrics } from "../../services/metrics.ts";
import type { MispModulesProxy } from "../../services/misp_modules_proxy.ts";
import { VerdictWorkers } from "../../services/verdict_workers.ts";
import { waitFor } from "../fixtures/wait_for.ts";

/** The admin token every test app accepts. */
export const ADMIN_TOKEN = "test-admin-token-0123456789";
/** The hook token every test app accepts. */
export const HOOK_TOKEN = "test-hook-token-0123456789";
/** `c.env` of a request from loopback (inside the default MISP allowlist). */
export const LOOPBACK_ENV = {
  remoteAddr: { hostname: "127.0.0.1", port: 40_000, transport: "tcp" },
};

/** Options of `startTestApp`. */
export interface TestAppOptions {
  env?: Record<string, string>;
  services?: Partial<ModuleServices>;
  proxy?: MispModulesProxy | null;
  modules?: ModuleLookup;
  /** Build the approval service over the KV and `services.misp`, as `main.ts` does. */
  approvals?: boolean;
  /** Chat bot options (bot ids, Web API retries), so no platform call is made. */
  chat?: ChatOptions;
  /**
   * Post the cards of blocked runs to chat, as `main.ts` does (default true); the chat harness
   * announces by hand.
   */
  announce?: boolean;
  /** Decide `/query` verdicts in this many verdict Workers (default none), closed on dispose. */
  verdictWorkers?: number;
}

/** A running test app; `await using` closes its KV. */
export interface TestApp extends AsyncDisposable {
  app: Hono<AppEnv>;
  kv: Deno.Kv;
  config: Config;
  /** The one context of the app (and of the chat). */
  ctx: AppContext;
  /** The chat bots the app mounts (none configured unless `env` sets them). */
  chat: Chat;
  /** `app.request` with the admin token and loopback env set. */
  admin(path: string, init?: RequestInit): Promise<Response>;
  /** `app.request` from loopback without credentials. */
  request(path: string, init?: RequestInit): Promise<Response>;
}

/** Starts an app on a fresh in-memory KV. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const kv = await Deno.openKv(":memory:");
  const env: Record<string, string> = {
    FLOWGATE_ADMIN_TOKEN: ADMIN_TOKEN,
    FLOWGATE_HOOK_TOKEN: HOOK_TOKEN,
    FLOWGATE_KV: ":memory:",
    // Every verdict goes to the Workers a test asks for, not only those that come while another
    // is being handled.
    ...(options.verdictWorkers ? { FLOWGATE_VERDICT_HANDOVER: "always" } : {}),
    ...options.env,
  };
  const config = loadConfig((name) => env[name]);
  await ensureAdminToken(kv, config.adminToken);
  const verdictWorkers = options.verdictWorkers
    ? VerdictWorkers.start({ size: options.verdictWorkers, secrets: configSecrets(config) })
    : null;
  // Until a Worker is ready, verdicts are decided on the server's thread: the test would not
  // reach the Workers at all.
  if (verdictWorkers) {
    await waitFor(() => verdictWorkers.available, {
      what: "a verdict Worker ready",
      timeoutMs: 30_000,
    });
  }
  const ctx = createAppContext({
    kv,
    config,
    services: offlineServices(options.services),
    metrics: new Metrics(),
    proxy: options.proxy ?? null,
    ...(options.modules ? { modules: options.modules } : {}),
    ...(options.approvals ? { approvals: true } : {}),
    verdictWorkers,
  });
  const chat = createChat(ctx, options.chat);
  if (options.announce ?? true) ctx.announcements.subscribe(chat.announceBlockedRun);
  const app = createApp(ctx, { chatWebhooks: chat.webhooks });
  const request = (path: string, init?: RequestInit) =>
    Promise.resolve(app.request(path, init, LOOPBACK_ENV));
  return {
    app,
    kv,
    config,
    ctx,
    chat,
    request,
    admin(path, init = {}) {
      const headers = new Headers(init.headers);
      headers.set("Authorization", `Bearer ${ADMIN_TOKEN}`);
      return request(path, { ...init, headers });
    },
    [Symbol.asyncDispose]() {
      verdictWorkers?.close();
      try {
        kv.close();
      } catch (error) {
        // Tests that stop a queue listener close the KV themselves.
        if (!(error instanceof Deno.errors.BadResource)) throw error;
      }
      return Promise.resolve();
    },
  };
}

/** Reads a file of `../shared/data/` (real MISP events and blueprints). */
export async function readSharedData(name: string): Promise<string> {
  return await Deno.readTextFile(new URL(`../../../shared/data/${name}`, import.meta.url));
}

/** The real event `misp-event-pymisp-sighting_2.json`, optionally with `tlp:red` on an attribute. */
export async function realEvent(options: { tlpRed?: boolean } = {}): Promise<
  Record<string, unknown>
> {
  const event = JSON.parse(await readSharedData("misp-event-pymisp-sighting_2.json"));
  if (options.tlpRed) {
    const attribute = event.Event.Attribute[0];
    attribute.Tag = [...(attribute.Tag ?? []), {
      id: "9001",
      name: "tlp:red",
      colour: "#CC0033",
      exportable: true,
    }];
  }
  return event;
}

/** Imports the real `PAP:RED and tlp:red Blocking` blueprint as a workflow; returns its id. */
export async function importRedBlueprint(test: TestApp): Promise<string> {
  // Imported blueprints start disabled; ?enable=true switches this one on at once.
  const response = await test.admin("/api/workflows?trigger=enrichment-before-query&enable=true", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: await readSharedData("blueprint_pap_red-and-tlp_red-blocking_1661328258.json"),
  });
  if (response.status !== 201) {
    throw new Error(`Blueprint import failed: ${response.status} ${await response.text()}`);
  }
  return (await response.json()).workflow.id;
}

/** Posts a MISP-shaped `/query` for `module` on `data`. */
export async function mispQuery(
  test: TestApp,
  module: string,
  data: unknown,
): Promise<Response> {
  return await test.request("/query", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ module, data, params: {} }),
  });
}
