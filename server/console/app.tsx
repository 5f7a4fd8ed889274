/**
 * The web console: a Hono sub-app of server-rendered pages (Hono JSX, no client script) for
 * workflows (import and edit included), runs, approvals and dead letters, behind an admin
 * session. `createApp` mounts it at `/`.
 *
 * @module
 */

import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { approvalsRoutes } from "./approvals.tsx";
import type { ConsoleContext, ConsoleEnv } from "./context.ts";
import { deadLettersRoutes } from "./dead_letters.tsx";
import { runRoutes } from "./run.tsx";
import { runsRoutes } from "./runs.tsx";
import { requireSession } from "./session.tsx";
import { signInRoutes } from "./sign_in.tsx";
import { CONSOLE_CSS, CONSOLE_CSS_PATH, FAVICON_SVG } from "./styles.ts";
import { workflowRoutes } from "./workflow.tsx";
import { workflowSourceRoutes } from "./workflow_source.tsx";
import { workflowsRoutes } from "./workflows.tsx";

/**
 * The console's Content-Security-Policy: no script at all, styles only from the stylesheet, forms
 * only to the console, never framed.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** Paths behind the session guard (everything but sign-in and the stylesheet). */
const GUARDED_PATHS = [
  "/workflows",
  "/workflows/*",
  "/runs",
  "/runs/*",
  "/approvals",
  "/approvals/*",
  "/dead-letters",
  "/dead-letters/*",
  "/import",
  "/sign-out",
];

/** Every console path, for the security headers (the API and MISP routes are left alone). */
const CONSOLE_PATHS = ["/", "/sign-in", "/static/*", "/favicon.ico", ...GUARDED_PATHS];

function securityHeaders(): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CONSOLE_CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("X-Frame-Options", "DENY");
    c.header("Referrer-Policy", "same-origin");
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  };
}

/**
 * Builds the console sub-app.
 *
 * @param ctx the console's part of the app context
 * @returns a Hono app whose routes all live under console paths, so mounting it at `/` leaves
 *   the API, MISP and chat routes untouched
 */
export function createConsole(ctx: ConsoleContext): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  for (const path of CONSOLE_PATHS) app.use(path, securityHeaders());
  for (const path of GUARDED_PATHS) app.use(path, requireSession(ctx));

  app.get(CONSOLE_CSS_PATH, (c) =>
    c.body(CONSOLE_CSS, 200, {
      "Content-Type": "text/css; charset=utf-8",
      "Cache-Control": "public, max-age=31536000, immutable",
    }));
  // Browsers ask for /favicon.ico whatever the page links; SVG content is what they get.
  app.get("/favicon.ico", (c) =>
    c.body(FAVICON_SVG, 200, {
      "Content-Type": "image/svg+xml",
      "Cache-Control": "public, max-age=86400",
    }));
  app.get("/", (c) => c.redirect("/workflows", 303));
  app.route("/", signInRoutes(ctx));
  app.route("/", workflowsRoutes(ctx));
  app.route("/", workflowSourceRoutes(ctx));
  app.route("/", workflowRoutes(ctx));
  app.route("/", runsRoutes(ctx));
  app.route("/", runRoutes(ctx));
  app.route("/", approvalsRoutes(ctx));
  app.route("/", deadLettersRoutes(ctx));
  return app;
}
