/**
 * `GET /healthz`: KV reachable, integrations on and off (ZeroMQ checked for real: FFI permission and
 * its native addon, see `checkIntegrations`), the misp-modules server reachable, and the verdict
 * Workers ready.
 *
 * @module
 */

import { Hono } from "hono";
import type { AppContext, AppEnv } from "../../services/context.ts";
import { chatTransports, checkIntegrations } from "../../services/integration_status.ts";

/** The health route. */
export function healthRoutes(
  ctx: Pick<AppContext, "kv" | "config" | "services" | "proxy" | "verdictWorkers">,
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
    const { integrations, errors } = await checkIntegrations(ctx);
    const body: Record<string, unknown> = {
      ok: kvOk,
      kv: kvOk ? { ok: true } : { ok: false, error: kvError },
      integrations,
      // How Slack and Telegram reach Flowgate: webhooks, or Socket Mode / long polling.
      "chat_transports": chatTransports(ctx.config),
      // A configured integration that cannot work (e.g. zmq without FFI) says why; the process
      // still serves, so it does not turn the answer into a 503.
      ...(Object.keys(errors).length > 0 ? { integration_errors: errors } : {}),
    };
    if (ctx.proxy) body.misp_modules = await ctx.proxy.health();
    // Verdicts are decided on the server's thread while none is ready (at start, or all failed).
    const workers = ctx.verdictWorkers;
    body.verdict_workers = workers
      ? { size: workers.size, ready: workers.readyCount, under_way: workers.underWay }
      : { size: 0, ready: 0, under_way: 0 };
    return c.json(body, kvOk ? 200 : 503);
  });
  return app;
}
