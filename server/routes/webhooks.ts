/**
 * Mounts the webhooks another surface serves through the app (the chat bots' `POST /slack/events`
 * and `POST /telegram`): the caller is checked from the headers first, and only then is the body
 * read, within the cap and timeouts given.
 *
 * @module
 */

import { Hono } from "hono";
import type { AppEnv } from "../../services/context.ts";
import type { WebhookRoute } from "../../services/webhook_route.ts";
import type { ReadBodyOptions } from "../body.ts";
import { boundRequestBody } from "../body_guard.ts";

/** The routes of `webhooks`, each body read within `limits` once its `preflight` passed. */
export function webhookRoutes(
  webhooks: readonly WebhookRoute[],
  limits: ReadBodyOptions,
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  for (const webhook of webhooks) {
    app.post(webhook.path, async (c) => {
      const refusal = await webhook.preflight(c.req.raw.headers);
      if (refusal !== null) return c.json({ error: refusal.error }, refusal.status);
      await boundRequestBody(c, limits);
      return await webhook.handle(c);
    });
  }
  return app;
}
