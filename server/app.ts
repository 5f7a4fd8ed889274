/**
 * The Hono app: MISP's Action service and Webhook intake, health, metrics, the admin API, the
 * console, and the chat's webhooks it is given. `createApp(ctx)` takes the app context, so tests
 * drive it with `app.request()` and no port.
 *
 * @module
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { log } from "../engine/log.ts";
import { WorkflowValidationError } from "../engine/validate.ts";
import { ConflictError, NotFoundError } from "../store/errors.ts";
import { UnknownTriggerError } from "../triggers/catalogue.ts";
import { NormalizationError } from "../triggers/normalization_error.ts";
import { ApprovalRefusedError } from "../services/approval_policy.ts";
import type { AppContext, AppEnv } from "../services/context.ts";
import type { WebhookRoute } from "../services/webhook_route.ts";
import { adminAuth } from "./auth.ts";
import { BodyTimeoutError, BodyTooLargeError } from "./body.ts";
import { limitBody, trackRequestBodies } from "./body_guard.ts";
import { bodyLimitsOf } from "./body_limits.ts";
import { RequestProblemsError } from "./errors.ts";
import { createConsole } from "./console/app.tsx";
import { approvalRoutes } from "./routes/api_approvals.ts";
import { auditRoutes } from "./routes/api_audit.ts";
import { chatRoutes } from "./routes/api_chat.ts";
import { catalogueRoutes } from "./routes/api_catalogue.ts";
import { deadLetterRoutes } from "./routes/api_dead_letters.ts";
import { runRoutes } from "./routes/api_runs.ts";
import { workflowRoutes } from "./routes/api_workflows.ts";
import { healthRoutes } from "./routes/health.ts";
import { hookRoutes } from "./routes/hooks.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { mispModulesRoutes } from "./routes/misp_modules.ts";
import { webhookRoutes } from "./routes/webhooks.ts";

/** Options of `createApp`. */
export interface AppOptions {
  /**
   * The chat bots' webhooks (`createChat(ctx).webhooks`), mounted at their paths with the chat
   * body cap; without them `/slack/events` and `/telegram` are not routes.
   */
  chatWebhooks?: readonly WebhookRoute[];
}

/** The HTTP status and JSON body of an error; the one place errors become statuses. */
export function errorResponse(error: unknown): { status: ContentfulStatusCode; body: object } {
  if (error instanceof HTTPException) {
    return { status: error.status as ContentfulStatusCode, body: { error: error.message } };
  }
  if (error instanceof BodyTooLargeError) return { status: 413, body: { error: error.message } };
  if (error instanceof BodyTimeoutError) return { status: 408, body: { error: error.message } };
  if (error instanceof RequestProblemsError) {
    return {
      status: 400,
      body: { error: error.message, problems: error.problems, warnings: error.warnings },
    };
  }
  if (error instanceof ConflictError) return { status: 409, body: { error: error.message } };
  if (error instanceof NotFoundError) return { status: 404, body: { error: error.message } };
  if (error instanceof Error) {
    // Bad input the engine and codecs describe precisely: parse, syntax, normalisation errors.
    if (
      error instanceof SyntaxError || error instanceof NormalizationError ||
      error instanceof WorkflowValidationError
    ) {
      const detail = error as { problems?: unknown[]; errors?: unknown[]; warnings?: unknown[] };
      const problems = detail.problems ?? detail.errors;
      return {
        status: 400,
        body: Array.isArray(problems)
          ? { error: error.message, problems, warnings: detail.warnings ?? [] }
          : { error: error.message },
      };
    }
    if (error instanceof UnknownTriggerError) {
      return { status: 404, body: { error: error.message } };
    }
    if (error instanceof ApprovalRefusedError) {
      return { status: 403, body: { error: error.message } };
    }
    const client = clientErrorMessage(error);
    if (client !== undefined) return { status: 400, body: { error: client } };
  }
  return { status: 500, body: { error: "Internal error: see the server log" } };
}

/**
 * What to tell the client when a runtime error comes from its input rather than from our code:
 * a value nested so deep that a recursive walk ran out of stack, an id or filter too long for a
 * KV key, a cursor KV cannot read. Undefined for any other error.
 */
export function clientErrorMessage(error: Error): string | undefined {
  if (error instanceof RangeError && /Maximum call stack size exceeded/i.test(error.message)) {
    return "Request nested too deeply: a value in it holds too many levels of objects or " +
      "lists; flatten it";
  }
  if (error instanceof TypeError && /^Key too large/i.test(error.message)) {
    return "An id, name or filter in the request is too long (KV keys are limited to 2 KiB): " +
      "shorten it";
  }
  if (error instanceof TypeError && /invalid cursor/i.test(error.message)) {
    return 'Invalid cursor: pass the "cursor" of the previous page unchanged';
  }
  return undefined;
}

/**
 * Builds the Flowgate app over the one app context (`createAppContext`).
 *
 * @param ctx the app context `main.ts` (or a test) built
 * @param options the chat's webhooks to mount
 * @returns the Hono app; `Deno.serve` passes its handler info as `c.env`
 */
export function createApp(ctx: AppContext, options: AppOptions = {}): Hono<AppEnv> {
  const limits = bodyLimitsOf(ctx.config);
  const app = new Hono<AppEnv>();

  app.onError((error, c) => {
    const { status, body } = errorResponse(error);
    if (status >= 500 && !(error instanceof HTTPException)) {
      log.error("Request failed", {
        method: c.req.method,
        path: c.req.path,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
    return c.json(body, status);
  });
  app.notFound((c) => c.json({ error: `No route for ${c.req.method} ${c.req.path}` }, 404));
  // No body is read here: each route reads its own, capped and timed, after its authentication.
  app.use("*", trackRequestBodies());

  app.route("/", healthRoutes(ctx));
  app.route("/", metricsRoutes(ctx));
  app.route("/", mispModulesRoutes(ctx));
  app.route("/hooks", hookRoutes(ctx));
  app.route("/", webhookRoutes(options.chatWebhooks ?? [], limits.chat));

  const api = new Hono<AppEnv>();
  api.use("*", adminAuth(ctx.kv));
  api.use("*", limitBody(limits.api));
  api.route("/workflows", workflowRoutes(ctx));
  api.route("/runs", runRoutes(ctx));
  api.route("/", catalogueRoutes());
  api.route("/audit", auditRoutes(ctx));
  api.route("/dead-letters", deadLetterRoutes(ctx));
  api.route("/chat", chatRoutes(ctx));
  api.route("/approvals", approvalRoutes(ctx));
  app.route("/api", api);
  // The web console: its routes sit under its own paths, so it leaves the ones above alone.
  app.route("/", createConsole(ctx));
  return app;
}
