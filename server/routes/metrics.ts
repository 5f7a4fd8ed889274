/**
 * `GET /metrics` (admin): Prometheus text.
 *
 * @module
 */

import { Hono } from "hono";
import { listDeadLetters } from "../../store/dead_letters.ts";
import { MAX_PAGE_SIZE } from "../../store/keys.ts";
import { countQueueDepth } from "../../store/queue_depth.ts";
import { listWorkflows } from "../../store/workflows.ts";
import { adminAuth } from "../auth.ts";
import type { AppContext, AppEnv } from "../../services/context.ts";

/** Dead letters counted at most per scrape (the gauge saturates there). */
export const MAX_COUNTED_DEAD_LETTERS = 10_000;

/** The metrics route. */
export function metricsRoutes(ctx: AppContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/metrics", adminAuth(ctx.kv), async (c) => {
    const [deadLetters, workflows, queueDepth] = await Promise.all([
      countDeadLetters(ctx.kv),
      listWorkflows(ctx.kv, {}),
      countQueueDepth(ctx.kv),
    ]);
    const text = ctx.metrics.render({
      deadLetters,
      queueDepth,
      workflowsEnabled: workflows.filter((stored) => stored.workflow.enabled).length,
    });
    return c.text(text, 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
  });
  return app;
}

async function countDeadLetters(kv: Deno.Kv): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await listDeadLetters(kv, { limit: MAX_PAGE_SIZE, cursor });
    count += page.items.length;
    cursor = page.cursor;
  } while (cursor !== undefined && count < MAX_COUNTED_DEAD_LETTERS);
  return count;
}
