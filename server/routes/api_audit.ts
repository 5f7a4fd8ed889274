/**
 * Admin API: the audit log, newest first, with cursors.
 *
 * @module
 */

import { Hono } from "hono";
import { listAudit } from "../../store/audit.ts";
import type { AppContext, AppEnv } from "../../services/context.ts";
import { pageOptions } from "./paging.ts";

/** The audit route. */
export function auditRoutes(ctx: Pick<AppContext, "kv">): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/", async (c) => c.json(await listAudit(ctx.kv, pageOptions(c.req.query()))));
  return app;
}
