/**
 * Admin API for chat access: role grants to Slack and Telegram users (`/api/chat/roles`) and the
 * chats the bots serve, with their announcements and maximum TLP (`/api/chat/chats`).
 *
 * @module
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { appendAudit } from "../../store/audit.ts";
import {
  CHAT_ROLES,
  type ChatPlatform,
  deleteChatRole,
  deleteChatVenue,
  listChatRoles,
  listChatVenues,
  putChatRole,
  putChatVenue,
} from "../../store/chat_roles.ts";
import { DEFAULT_CHAT_MAX_TLP, TLP_LEVELS } from "../../services/tlp.ts";
import type { AppContext, AppEnv } from "../../services/context.ts";
import { API_ACTOR } from "./api_workflows.ts";
import { parseJsonBody } from "./json_body.ts";

const PLATFORM = z.enum(["slack", "telegram"]);
const ID = z.string().trim().min(1).max(64).regex(/^[\w.-]+$/, "letters, digits, _ . - only");

const ROLE_BODY = z.object({
  platform: PLATFORM,
  "user_id": ID,
  role: z.enum(CHAT_ROLES as [string, ...string[]]),
  chats: z.array(ID).optional(),
}).strict();

const CHAT_BODY = z.object({
  platform: PLATFORM,
  "chat_id": ID,
  commands: z.boolean().default(true),
  announce: z.boolean().default(false),
  workflows: z.array(z.string().min(1)).optional(),
  "max_tlp": z.enum(TLP_LEVELS as [string, ...string[]]).default(DEFAULT_CHAT_MAX_TLP),
}).strict();

function validate<T>(schema: z.ZodType<T>, text: string): T {
  const result = schema.safeParse(parseJsonBody(text));
  if (!result.success) {
    const problems = result.error.issues.map((issue) =>
      `${issue.path.join(".") || "body"}: ${issue.message}`
    );
    throw new HTTPException(400, { message: `Invalid request: ${problems.join("; ")}` });
  }
  return result.data;
}

function platformAndId(query: Record<string, string>, idField: string): [ChatPlatform, string] {
  const platform = PLATFORM.safeParse(query.platform);
  const id = ID.safeParse(query[idField]);
  if (!platform.success || !id.success) {
    throw new HTTPException(400, {
      message: `Query needs "platform" (slack or telegram) and "${idField}"`,
    });
  }
  return [platform.data, id.data];
}

/** The chat access routes. */
export function chatRoutes(ctx: Pick<AppContext, "kv" | "now">): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const audit = (action: string, target: string, details: Record<string, unknown>) =>
    appendAudit(ctx.kv, { actor: API_ACTOR, action, target, details }, {
      now: new Date(ctx.now()),
    });

  app.get("/roles", async (c) => c.json({ items: await listChatRoles(ctx.kv) }));

  app.put("/roles", async (c) => {
    const body = validate(ROLE_BODY, await c.req.text());
    const grant = {
      platform: body.platform,
      "user_id": body.user_id,
      role: body.role as (typeof CHAT_ROLES)[number],
      ...(body.chats ? { chats: body.chats } : {}),
      "granted_by": API_ACTOR,
      "granted_at": new Date(ctx.now()).toISOString(),
    };
    await putChatRole(ctx.kv, grant);
    await audit("chat.role.grant", `${body.platform}:${body.user_id}`, { role: body.role });
    return c.json(grant);
  });

  app.delete("/roles", async (c) => {
    const [platform, userId] = platformAndId(c.req.query(), "user_id");
    if (!(await deleteChatRole(ctx.kv, platform, userId))) {
      throw new HTTPException(404, { message: `No chat role for ${platform} user "${userId}"` });
    }
    await audit("chat.role.revoke", `${platform}:${userId}`, {});
    return c.body(null, 204);
  });

  app.get("/chats", async (c) => c.json({ items: await listChatVenues(ctx.kv) }));

  app.put("/chats", async (c) => {
    const body = validate(CHAT_BODY, await c.req.text());
    const venue = {
      ...body,
      "max_tlp": body.max_tlp as (typeof TLP_LEVELS)[number],
      "updated_by": API_ACTOR,
      "updated_at": new Date(ctx.now()).toISOString(),
    };
    await putChatVenue(ctx.kv, venue);
    await audit("chat.venue.put", `${body.platform}:${body.chat_id}`, {
      commands: body.commands,
      announce: body.announce,
      "max_tlp": body.max_tlp,
    });
    return c.json(venue);
  });

  app.delete("/chats", async (c) => {
    const [platform, chatId] = platformAndId(c.req.query(), "chat_id");
    if (!(await deleteChatVenue(ctx.kv, platform, chatId))) {
      throw new HTTPException(404, { message: `No ${platform} chat "${chatId}"` });
    }
    await audit("chat.venue.delete", `${platform}:${chatId}`, {});
    return c.body(null, 204);
  });

  return app;
}
