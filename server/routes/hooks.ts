/**
 * `POST /hooks/misp/:trigger`: what MISP's Webhook action module sends (reference §4.1), taken in
 * durably and run from the queue.
 *
 * @module
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { JsonObject } from "../../engine/model.ts";
import { getTrigger, TRIGGERS } from "../../triggers/catalogue.ts";
import { hookAuth } from "../auth.ts";
import { boundRequestBody } from "../body_guard.ts";
import { bodyLimitsOf } from "../body_limits.ts";
import type { AppContext, AppEnv } from "../../services/context.ts";
import { processMemory } from "../../services/idle_memory_release.ts";
import { acceptIntake } from "../../services/intake.ts";
import { parsePhpForm } from "../php_form.ts";

/** What the webhook route uses: the configuration, and what an intake needs. */
export type HookRoutesContext = Pick<AppContext, "config"> & Parameters<typeof acceptIntake>[0];

/** The webhook route; the token and the trigger are checked before the body is read. */
export function hookRoutes(ctx: HookRoutesContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const limits = bodyLimitsOf(ctx.config).hooks;
  app.on(["POST", "PUT"], "/misp/:trigger", hookAuth(ctx.config.hookToken), async (c) => {
    const triggerId = c.req.param("trigger");
    if (getTrigger(triggerId) === undefined) {
      const known = TRIGGERS.map((trigger) => trigger.descriptor.id);
      return c.json({
        error: `Unknown trigger "${triggerId}": known triggers are ${known.join(", ")}`,
        known_triggers: known,
      }, 404);
    }
    // The heap is given back once the process is idle again (see `IdleMemoryRelease`).
    processMemory.begin();
    try {
      const text = new TextDecoder().decode(await boundRequestBody(c, limits));
      // Queued runs wait while MISP waits for this answer (see `ForegroundPriority`).
      ctx.foreground.begin();
      try {
        const contentType = c.req.header("Content-Type");
        const data = parseWebhookBody(text, contentType);
        const result = await acceptIntake(ctx, triggerId, data, {
          actor: { kind: "webhook", id: c.env?.remoteAddr?.hostname },
          // A JSON body is the data itself, stored as received; a form body is hashed as received.
          ...(isJsonContentType(contentType) ? { dataJson: text } : { payloadText: text }),
        });
        return c.json({ run_ids: result.runIds, duplicate: result.duplicate }, 202);
      } finally {
        ctx.foreground.end();
      }
    } finally {
      processMemory.end();
    }
  });
  return app;
}

/** The media type of a `Content-Type` header, lowercase (JSON when absent). */
function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? "application/json").split(";")[0]!.trim().toLowerCase();
}

/** True when a webhook body of this `Content-Type` is read as JSON. */
export function isJsonContentType(contentType: string | undefined): boolean {
  const type = mediaTypeOf(contentType);
  return type === "application/json" || type.endsWith("+json");
}

/** Decodes a JSON or PHP-form webhook body into the roaming data object. */
export function parseWebhookBody(text: string, contentType: string | undefined): JsonObject {
  const type = mediaTypeOf(contentType);
  let data: unknown;
  if (isJsonContentType(contentType)) {
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new HTTPException(400, {
        message: `Webhook body is not JSON: ${(error as Error).message}`,
      });
    }
  } else if (type === "application/x-www-form-urlencoded") {
    data = parsePhpForm(text);
  } else {
    throw new HTTPException(415, {
      message: `Unsupported content type "${type}": send application/json or ` +
        "application/x-www-form-urlencoded",
    });
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new HTTPException(400, {
      message: "Webhook body must be a JSON object (MISP's roaming data)",
    });
  }
  return data as JsonObject;
}
