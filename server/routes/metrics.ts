/**
 * `GET /metrics` (admin): Prometheus text.
 *
 * @module
 */

import { Hono } from "hono";
import { countDeadLetters } from "../../store/dead_letters.ts";
import { countQueueDepth } from "../../store/queue_depth.ts";
import { listWorkflows } from "../../store/workflows.ts";
import { adminAuth } from "../auth.ts";
import type { AppContext, AppEnv } from "../../services/context.ts";

/** The metrics route. */
export function metricsRoutes(ctx: Pick<AppContext, "kv" | "metrics">): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/metrics", adminAuth(ctx.kv), async (c) => {
    const [deadLetters, workflows, queueDepth] = await Promise.all([
      countDeadLetters(ctx.kv),
      listWorkflows(ctx.kv, {}),
      countQueueDepth(ctx.kv),
    ]);
    const text = ctx.metrics.render({
      deadLetters: deadLetters.count,
      queueDepth,
      workflowsEnabled: workflows.filter((stored) => stored.workflow.enabled).length,
    });
    return c.text(text, 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
  });
  return app;
}
