/**
 * Console sessions and CSRF protection: a random session id in an HttpOnly, Secure,
 * SameSite=Strict cookie, its SHA-256 in KV with an expiry, a per-session CSRF token checked on
 * every state-changing request together with the `Origin` header.
 *
 * Browsers accept `Secure` cookies from `http://localhost` and `http://127.0.0.1` (both count as
 * potentially trustworthy origins), so the same cookie works for local use without TLS; any other
 * plain-HTTP host needs TLS in front.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";
import { constantTimeEquals } from "../../services/constant_time.ts";
import { isAddressAllowed, parseAllowlist } from "../auth.ts";
import { BodyTimeoutError, BodyTooLargeError, type ReadBodyOptions } from "../body.ts";
import { boundRequestBody } from "../body_guard.ts";
import { bodyLimitsOf } from "../body_limits.ts";
import type { ConsoleContext, ConsoleEnv, ConsoleSession } from "./context.ts";
import { ErrorPage } from "./layout.tsx";
import {
  deleteConsoleSession,
  getConsoleSession,
  saveConsoleSession,
} from "../../store/console_sessions.ts";

/** Cookie holding the session id; `__Host-` makes browsers insist on Secure, Path=/ and no Domain. */
export const SESSION_COOKIE = "__Host-flowgate_session";
/** Cookie holding the sign-in form's CSRF token (there is no session yet to keep it in). */
export const SIGN_IN_COOKIE = "__Host-flowgate_signin";
/** Form field carrying the CSRF token. */
export const CSRF_FIELD = "_csrf";
/** How long a session lasts from sign-in: 8 hours. */
export const SESSION_TTL_MS = 28_800_000;
/** How long a sign-in form stays valid: 1 hour. */
export const SIGN_IN_TTL_MS = 3_600_000;

const TOKEN_BYTES = 32;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** A fresh random token (32 bytes, base64url), for session ids and CSRF tokens. */
export function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/**
 * Starts a session after a successful sign-in: stores it (expiring with KV's `expireIn`) and sets
 * the session cookie.
 */
export async function startSession(
  ctx: Pick<ConsoleContext, "kv" | "now">,
  c: Context<ConsoleEnv>,
): Promise<ConsoleSession> {
  const id = randomToken();
  const now = ctx.now();
  const session: ConsoleSession = {
    csrf: randomToken(),
    "created_at": new Date(now).toISOString(),
    "expires_at": new Date(now + SESSION_TTL_MS).toISOString(),
  };
  await saveConsoleSession(ctx.kv, id, session, SESSION_TTL_MS);
  setCookie(c, SESSION_COOKIE, id, {
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    path: "/",
    maxAge: SESSION_TTL_MS / 1_000,
  });
  return session;
}

/** The live session of the request's cookie, or null (none, unknown or expired). */
export async function readSession(
  ctx: Pick<ConsoleContext, "kv" | "now">,
  c: Context<ConsoleEnv>,
): Promise<ConsoleSession | null> {
  const id = getCookie(c, SESSION_COOKIE);
  if (!id) return null;
  return await getConsoleSession(ctx.kv, id, ctx.now());
}

/** Ends the request's session: deletes it from KV and clears the cookie. */
export async function endSession(
  ctx: Pick<ConsoleContext, "kv">,
  c: Context<ConsoleEnv>,
): Promise<void> {
  const id = getCookie(c, SESSION_COOKIE);
  if (id) await deleteConsoleSession(ctx.kv, id);
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true });
}

/** Issues the sign-in form's CSRF token as a short-lived cookie and returns it for the form. */
export function issueSignInToken(c: Context<ConsoleEnv>): string {
  const token = randomToken();
  setCookie(c, SIGN_IN_COOKIE, token, {
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    path: "/",
    maxAge: SIGN_IN_TTL_MS / 1_000,
  });
  return token;
}

/** True when the sign-in form sent back the token of its cookie. */
export async function checkSignInToken(c: Context<ConsoleEnv>): Promise<boolean> {
  const expected = getCookie(c, SIGN_IN_COOKIE);
  const presented = await formField(c, CSRF_FIELD);
  return expected !== undefined && presented !== undefined &&
    await constantTimeEquals(presented, expected);
}

/**
 * The host the browser addressed: the request's `Host`, or the `X-Forwarded-Host` a trusted
 * reverse proxy (`FLOWGATE_TRUSTED_PROXIES`) sets when it rewrites `Host`.
 */
export function requestHost(
  ctx: Pick<ConsoleContext, "config">,
  c: Context<ConsoleEnv>,
): string {
  const forwarded = c.req.header("X-Forwarded-Host")?.split(",")[0]?.trim();
  const peer = c.env?.remoteAddr?.hostname;
  if (forwarded && peer && isAddressAllowed(peer, parseAllowlist(ctx.config.trustedProxies))) {
    return forwarded;
  }
  return new URL(c.req.url).host;
}

/**
 * Why a state-changing request must be refused as cross-site, or undefined when it may proceed:
 * an `Origin` (or `Sec-Fetch-Site`) naming another site.
 */
export function crossSiteReason(
  ctx: Pick<ConsoleContext, "config">,
  c: Context<ConsoleEnv>,
): string | undefined {
  const fetchSite = c.req.header("Sec-Fetch-Site");
  if (fetchSite !== undefined && fetchSite !== "same-origin" && fetchSite !== "none") {
    return `Refused a ${fetchSite} request: console forms must be sent from the console`;
  }
  const origin = c.req.header("Origin");
  if (origin === undefined) return undefined;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  const expected = requestHost(ctx, c);
  return host === expected
    ? undefined
    : `Refused a request from origin "${origin}": the console only accepts "${expected}"`;
}

/**
 * Lets only signed-in admins through: a page request without a session is redirected to the
 * sign-in page, any other request is refused with 403. State-changing requests must also pass the
 * origin check and carry the session's CSRF token.
 */
export function requireSession(
  ctx: Pick<ConsoleContext, "kv" | "now" | "config">,
): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const session = await readSession(ctx, c);
    const safe = SAFE_METHODS.has(c.req.method);
    if (session === null) {
      if (safe) {
        const url = new URL(c.req.url);
        const back = encodeURIComponent(url.pathname + url.search);
        return c.redirect(`/sign-in?next=${back}`, 303);
      }
      return c.html(<ErrorPage status={403} message="Sign in first: there is no session" />, 403);
    }
    if (!safe) {
      const reason = crossSiteReason(ctx, c);
      if (reason !== undefined) return c.html(<ErrorPage status={403} message={reason} />, 403);
      // Signed in: now, and only now, the form is read (capped and timed).
      const refused = await boundFormBody(c, bodyLimitsOf(ctx.config).consoleForm);
      if (refused !== undefined) return refused;
      const presented = await formField(c, CSRF_FIELD);
      if (presented === undefined || !(await constantTimeEquals(presented, session.csrf))) {
        return c.html(
          <ErrorPage
            status={403}
            message="Refused: the form's CSRF token is missing or wrong; reload the page and try again"
          />,
          403,
        );
      }
    }
    c.set("session", session);
    await next();
  };
}

/**
 * Reads the request's form body within `options` (see `boundRequestBody`); a body too large or
 * too slow gets its error page, returned for the caller to answer with.
 */
export async function boundFormBody(
  c: Context<ConsoleEnv>,
  options: ReadBodyOptions,
): Promise<Response | undefined> {
  try {
    await boundRequestBody(c, options);
    return undefined;
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      return c.html(<ErrorPage status={413} message={error.message} />, 413);
    }
    if (error instanceof BodyTimeoutError) {
      return c.html(<ErrorPage status={408} message={error.message} />, 408);
    }
    throw error;
  }
}

/** One text field of a urlencoded or multipart form body, or undefined. */
export async function formField(
  c: Context<ConsoleEnv>,
  name: string,
): Promise<string | undefined> {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return undefined;
  let body: Awaited<ReturnType<typeof c.req.parseBody>>;
  try {
    body = await c.req.parseBody();
  } catch (error) {
    // A multipart body without its boundary, or cut short: the client's fault, not ours.
    throw new HTTPException(400, {
      message: `The form body could not be read (${(error as Error).message}): send ` +
        "application/x-www-form-urlencoded or complete multipart/form-data",
      cause: error,
    });
  }
  const value = body[name];
  return typeof value === "string" ? value : undefined;
}
