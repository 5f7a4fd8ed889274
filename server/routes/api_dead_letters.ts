/**
 * Admin API: dead letters (queue work given up on), listed and deleted.
 *
 * @module
 */

import { Hono } from "hono";
import { appendAudit } from "../../store/audit.ts";
import { deleteDeadLetter, listDeadLetters } from "../../store/dead_letters.ts";
import type { AppContext, AppEnv } from "../../services/context.ts";
import { API_ACTOR } from "./api_workflows.ts";
import { pageOptions } from "./paging.ts";
import { pathId } from "./params.ts";

/** The dead-letter routes. */
export function deadLetterRoutes(ctx: Pick<AppContext, "kv">): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/", async (c) => c.json(await listDeadLetters(ctx.kv, pageOptions(c.req.query()))));
  app.delete("/:id", async (c) => {
    const id = pathId(c, "dead letter");
    await deleteDeadLetter(ctx.kv, id);
    await appendAudit(ctx.kv, { actor: API_ACTOR, action: "dead_letter.delete", target: id });
    return c.json({ deleted: id });
  });
  return app;
}
