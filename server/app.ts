/**
 * The Hono app: MISP's Action service and Webhook intake, health, metrics and the admin API.
 * `createApp(deps)` takes every dependency, so tests drive it with `app.request()` and no port.
 *
 * @module
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { createChat } from "../bot/chat_routes.ts";
import { log } from "../engine/log.ts";
import type { ModuleLookup } from "../engine/walker.ts";
import { createWorkflowRunner } from "../services/workflow_runner.ts";
import type { ModuleServices } from "../engine/module_services.ts";
import { MODULE_REGISTRY } from "../modules/registry.ts";
import { ConflictError, NotFoundError } from "../store/errors.ts";
import { adminAuth } from "./auth.ts";
import { BodyTimeoutError, BodyTooLargeError } from "./body.ts";
import { limitBody, trackRequestBodies } from "./body_guard.ts";
import { bodyLimitsOf } from "./body_limits.ts";
import { RequestProblemsError } from "./errors.ts";
import type { AppContext, AppDeps, AppEnv } from "../services/context.ts";
import { InFlightRuns } from "../services/in_flight.ts";
import { createIntakeCommitter } from "../services/intake.ts";
import { Metrics } from "../services/metrics.ts";
import { createRunCommitter } from "../services/verdict.ts";
import { createMispModulesProxy } from "../services/misp_modules_proxy.ts";
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

/** Resolves the optional dependencies (clock, metrics, misp-modules proxy). */
export function resolveAppContext(deps: AppDeps): AppContext {
  const now = deps.clock ?? Date.now;
  const modules = deps.modules ?? MODULE_REGISTRY;
  return {
    kv: deps.kv,
    config: deps.config,
    services: withWorkflowRunner(deps.kv, deps.services, modules),
    now,
    metrics: deps.metrics ?? new Metrics(),
    proxy: deps.proxy !== undefined
      ? deps.proxy
      : deps.config.mispModulesUrl
      ? createMispModulesProxy(deps.config.mispModulesUrl, { fetch: deps.fetch, now })
      : null,
    modules,
    intakes: createIntakeCommitter(deps.kv),
    runs: createRunCommitter(deps.kv, deps.config.retentionDays),
    inFlight: deps.inFlight ?? new InFlightRuns(),
  };
}

/**
 * Gives `run-workflow` its runner over the stored workflows, unless the caller brought one. The
 * services object is completed in place: the app, the queue listener and tests share it.
 */
function withWorkflowRunner(
  kv: Deno.Kv,
  services: ModuleServices,
  modules: ModuleLookup,
): ModuleServices {
  services.runWorkflow ??= createWorkflowRunner({ kv, services, modules });
  return services;
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
      error instanceof SyntaxError || error.name === "NormalizationError" ||
      error.name === "WorkflowValidationError"
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
    if (error.name === "UnknownTriggerError") {
      return { status: 404, body: { error: error.message } };
    }
    if (error.name === "ApprovalRefusedError") {
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
 * Builds the Flowgate app.
 *
 * @param deps kv, config, module services, and optionally clock, fetch, metrics and proxy
 * @returns the Hono app; `Deno.serve` passes its handler info as `c.env`
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const ctx = resolveAppContext(deps);
  const chat = createChat(ctx, deps.chat);
  ctx.announceBlockedRun = chat.announceBlockedRun;
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
  app.route("/", chat.routes);

  const api = new Hono<AppEnv>();
  api.use("*", adminAuth(ctx.kv));
  api.use("*", limitBody(bodyLimitsOf(ctx.config).api));
  api.route("/workflows", workflowRoutes(ctx));
  api.route("/runs", runRoutes(ctx));
  api.route("/", catalogueRoutes(ctx));
  api.route("/audit", auditRoutes(ctx));
  api.route("/dead-letters", deadLetterRoutes(ctx));
  api.route("/chat", chatRoutes(ctx));
  api.route("/approvals", approvalRoutes(ctx));
  app.route("/api", api);
  // The web console: its routes sit under its own paths, so it leaves the ones above alone.
  app.route(
    "/",
    createConsole({
      kv: ctx.kv,
      config: ctx.config,
      services: ctx.services,
      clock: ctx.now,
      modules: ctx.modules,
    }),
  );
  return app;
}
