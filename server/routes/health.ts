/**
 * `GET /healthz`: KV reachable, integrations on and off, the misp-modules server reachable.
 *
 * @module
 */

import { Hono } from "hono";
import type { AppContext, AppEnv } from "../../services/context.ts";
import { integrationStatus } from "../../services/integration_status.ts";

/** The health route. */
export function healthRoutes(
  ctx: Pick<AppContext, "kv" | "config" | "services" | "proxy">,
): Hono<AppEnv> {
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
