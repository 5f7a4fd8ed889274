/**
 * `GET /healthz`: KV reachable, integrations on and off, the misp-modules server reachable.
 *
 * @module
 */

import { Hono } from "hono";
import type { AppContext, AppEnv } from "../../services/context.ts";

/** Which integrations are configured; `/healthz` and the start-up log show it. */
export function integrationStatus(ctx: Pick<AppContext, "config" | "services">): Record<
  string,
  boolean
> {
  const { config, services } = ctx;
  return {
    misp: services.misp !== null,
    smtp: services.mail !== null,
    zmq: services.zmq !== null,
    outbound_http: services.outboundFetch !== null,
    slack: config.slack !== null,
    telegram: config.telegram !== null,
    webhooks: config.hookToken !== undefined,
    misp_modules: config.mispModulesUrl !== undefined,
    workflows_dir: config.workflowsDir !== undefined,
  };
}

/** The health route. */
export function healthRoutes(ctx: AppContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/healthz", async (c) => {
    let kvOk = true;
    let kvError: string | undefined;
    try {
      await ctx.kv.get(["healthz"]);
    } catch (error) {
      kvOk = false;
      kvError = error instanceof Error ? error.message : String(error);
    }
    const body: Record<string, unknown> = {
      ok: kvOk,
      kv: kvOk ? { ok: true } : { ok: false, error: kvError },
      integrations: integrationStatus(ctx),
    };
    if (ctx.proxy) body.misp_modules = await ctx.proxy.health();
    return c.json(body, kvOk ? 200 : 503);
  });
  return app;
}
