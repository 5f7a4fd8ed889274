/**
 * Admin API catalogues: the triggers and the logic and action modules Flowgate knows.
 *
 * @module
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { getModule, listModules } from "../../modules/registry.ts";
import { getTrigger, TRIGGERS } from "../../triggers/catalogue.ts";
import type { AppEnv } from "../../services/context.ts";

/** The catalogue routes (`/triggers`, `/modules`). */
export function catalogueRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/triggers", (c) => c.json({ items: TRIGGERS.map((trigger) => trigger.descriptor) }));
  app.get("/triggers/:id", (c) => {
    const trigger = getTrigger(c.req.param("id"));
    if (!trigger) {
      throw new HTTPException(404, { message: `Trigger "${c.req.param("id")}" not found` });
    }
    return c.json(trigger.descriptor);
  });
  app.get("/modules", (c) => {
    const kind = c.req.query("kind");
    if (kind !== undefined && kind !== "logic" && kind !== "action") {
      throw new HTTPException(400, {
        message: `Unknown module kind "${kind}": use logic or action`,
      });
    }
    return c.json({ items: listModules(kind).map((module) => module.descriptor) });
  });
  app.get("/modules/:id", (c) => {
    const module = getModule(c.req.param("id"));
    if (!module) {
      throw new HTTPException(404, { message: `Module "${c.req.param("id")}" not found` });
    }
    return c.json(module.descriptor);
  });
  return app;
}
