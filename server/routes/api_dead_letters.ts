/**
 * Admin API: dead letters (queue work given up on), listed, retried and deleted.
 *
 * @module
 */

import { Hono } from "hono";
import { listDeadLetters } from "../../store/dead_letters.ts";
import type { AppContext, AppEnv } from "../../services/context.ts";
import { discardDeadLetter, retryDeadLetter } from "../../services/dead_letters.ts";
import { API_ACTOR } from "./api_workflows.ts";
import { pageOptions } from "./paging.ts";
import { pathId } from "./params.ts";

/** The dead-letter routes. */
export function deadLetterRoutes(ctx: Pick<AppContext, "kv" | "now" | "metrics">): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/", async (c) => c.json(await listDeadLetters(ctx.kv, pageOptions(c.req.query()))));
  app.delete("/:id", async (c) => {
    const id = pathId(c, "dead letter");
    await discardDeadLetter(ctx, id, API_ACTOR);
    return c.json({ deleted: id });
  });
  app.post("/:id/retry", async (c) => {
    return c.json(await retryDeadLetter(ctx, pathId(c, "dead letter"), API_ACTOR));
  });
  return app;
}
