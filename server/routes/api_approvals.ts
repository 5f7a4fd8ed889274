/**
 * Admin API for approvals: list (pending first, filters), get with the whole history, approve and
 * deny. The admin acts as `api:admin`, or on behalf of a named approver: a chat identity
 * (`slack:U1`, `telegram:42`) acts with that user's chat role, any other name (a MISP email) with
 * the admin role, and the name counts for the self-approval rule.
 *
 * @module
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { type ApprovalState, listApprovals } from "../../store/approvals.ts";
import { type ChatPlatform, type ChatRole, getChatRole } from "../../store/chat_roles.ts";
import {
  ApprovalRefusedError,
  type ApprovalService,
  approvalServiceOf,
  type DecisionInput,
} from "../../services/approvals.ts";
import type { AppContext, AppEnv } from "../../services/context.ts";
import { API_ACTOR } from "./api_workflows.ts";
import { parseJsonBody } from "./json_body.ts";
import { pathId, queryFilter } from "./params.ts";

const STATES = new Set<ApprovalState>(["pending", "approved", "denied", "superseded"]);
const CHAT_PLATFORMS = new Set<ChatPlatform>(["slack", "telegram"]);

/** The approval routes (mounted under `/api/approvals`). */
export function approvalRoutes(
  ctx: Pick<AppContext, "kv" | "services" | "approvals">,
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const service = (): ApprovalService => {
    try {
      return approvalServiceOf(ctx);
    } catch (error) {
      throw new HTTPException(503, { message: (error as Error).message, cause: error });
    }
  };

  app.get("/", async (c) => {
    const query = c.req.query();
    if (query.state !== undefined && !STATES.has(query.state as ApprovalState)) {
      throw new HTTPException(400, {
        message: `Unknown state "${query.state}": use ${[...STATES].join(", ")}`,
      });
    }
    const limit = query.limit === undefined ? undefined : Number(query.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      throw new HTTPException(400, { message: `Invalid limit "${query.limit}"` });
    }
    const event = queryFilter(query.event, "event");
    const workflow = queryFilter(query.workflow, "workflow");
    const items = await listApprovals(ctx.kv, {
      ...(query.state ? { state: query.state as ApprovalState } : {}),
      ...(event ? { event } : {}),
      ...(workflow ? { workflow } : {}),
      ...(limit ? { limit } : {}),
    });
    return c.json({ items });
  });

  app.get("/:id", async (c) => {
    const id = pathId(c, "approval");
    const approval = await service().getApproval(id);
    if (approval === null) throw new HTTPException(404, { message: `Approval "${id}" not found` });
    return c.json(approval);
  });

  for (const decision of ["approve", "deny"] as const) {
    app.post(`/:id/${decision}`, async (c) => {
      const id = pathId(c, "approval");
      const text = await c.req.text();
      const body = text.trim() === "" ? {} : parseJsonBody(text);
      for (const field of ["approver", "reason"] as const) {
        if (body[field] !== undefined && typeof body[field] !== "string") {
          throw new HTTPException(400, { message: `"${field}" must be a string` });
        }
      }
      const input: DecisionInput = {
        decision,
        ...await identityOf(ctx, body.approver as string | undefined),
        ...(body.reason ? { reason: body.reason as string } : {}),
      };
      try {
        const result = await service().decide(id, input);
        return c.json(result);
      } catch (error) {
        if (error instanceof ApprovalRefusedError) {
          throw new HTTPException(403, { message: error.message, cause: error });
        }
        throw error;
      }
    });
  }
  return app;
}

/** The actor and role of a decision made through the API. */
async function identityOf(
  ctx: Pick<AppContext, "kv">,
  approver: string | undefined,
): Promise<{ actor: string; role: ChatRole | null; identities?: string[] }> {
  const name = approver?.trim() ?? "";
  if (name === "") return { actor: API_ACTOR, role: "admin" };
  const [platform, userId] = name.split(":", 2);
  if (CHAT_PLATFORMS.has(platform as ChatPlatform) && userId) {
    const grant = await getChatRole(ctx.kv, platform as ChatPlatform, userId);
    return { actor: name, role: grant?.role ?? null };
  }
  return { actor: `api:${name}`, role: "admin", identities: [name] };
}
