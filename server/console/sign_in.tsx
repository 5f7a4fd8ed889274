/**
 * Signing in to the console with the admin token, and signing out.
 *
 * @module
 */

import { Hono } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { appendAudit } from "../../store/audit.ts";
import { verifyAdminToken } from "../../store/admin_token.ts";
import { CONSOLE_ACTOR, type ConsoleContext, type ConsoleEnv } from "./context.ts";
import { parseAllowlist, remoteAddress } from "../auth.ts";
import { bodyLimitsOf } from "../body_limits.ts";
import {
  SIGN_IN_ATTEMPTS,
  SIGN_IN_TRACKED_ADDRESSES,
  SIGN_IN_WINDOW_MS,
  SlidingWindowLimiter,
} from "../rate_limit.ts";
import { CsrfField, ErrorPage, Page } from "./layout.tsx";
import {
  boundFormBody,
  checkSignInToken,
  crossSiteReason,
  endSession,
  formField,
  issueSignInToken,
  startSession,
} from "./session.tsx";

/** A local path to go back to after signing in; anything else (other sites) becomes `/workflows`. */
export function safeNextPath(next: string | undefined): string {
  if (next === undefined || !next.startsWith("/") || next.startsWith("//")) return "/workflows";
  if (next.includes("\\") || /[\r\n]/.test(next)) return "/workflows";
  return next;
}

function SignInPage(props: { csrf: string; next: string; error?: string }): JSX.Element {
  return (
    <Page title="Sign in" section="none">
      <section class="card stack signin">
        <h1>Sign in to Flowgate</h1>
        {props.error && <p class="error">{props.error}</p>}
        <form method="post" action="/sign-in" class="stack">
          <CsrfField token={props.csrf} />
          <input type="hidden" name="next" value={props.next} />
          <label for="token">Admin token</label>
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="current-password"
            required
            autofocus
          />
          <button class="primary" type="submit">Sign in</button>
        </form>
        <p class="muted small">
          The token is <code>FLOWGATE_ADMIN_TOKEN</code>, or the one printed at first start.
        </p>
      </section>
    </Page>
  );
}

/** The sign-in and sign-out routes; sign-in attempts are rate-limited per client address. */
export function signInRoutes(
  ctx: Pick<ConsoleContext, "kv" | "now" | "config">,
): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const attempts = new SlidingWindowLimiter({
    limit: SIGN_IN_ATTEMPTS,
    windowMs: SIGN_IN_WINDOW_MS,
    maxKeys: SIGN_IN_TRACKED_ADDRESSES,
  });
  const proxies = parseAllowlist(ctx.config.trustedProxies);
  const limits = bodyLimitsOf(ctx.config).signIn;

  app.get("/sign-in", (c) => {
    const next = safeNextPath(c.req.query("next"));
    return c.html(<SignInPage csrf={issueSignInToken(c)} next={next} />);
  });

  app.post("/sign-in", async (c) => {
    // Counted before anything else, the body included: a guessing client is refused cheaply.
    const address = remoteAddress(
      c.env?.remoteAddr?.hostname,
      c.req.header("X-Forwarded-For"),
      proxies,
    ) ?? "unknown";
    const decision = attempts.take(address, ctx.now());
    if (!decision.allowed) {
      const seconds = Math.ceil(decision.retryAfterMs / 1_000);
      c.header("Retry-After", String(seconds));
      return c.html(
        <ErrorPage
          status={429}
          message={`Too many sign-in attempts from ${address}: at most ${SIGN_IN_ATTEMPTS} a ` +
            `minute. Try again in ${seconds} s`}
        />,
        429,
      );
    }
    const reason = crossSiteReason(ctx, c);
    if (reason !== undefined) return c.html(<ErrorPage status={403} message={reason} />, 403);
    const refused = await boundFormBody(c, limits);
    if (refused !== undefined) return refused;
    if (!(await checkSignInToken(c))) {
      return c.html(
        <ErrorPage
          status={403}
          message="Refused: the sign-in form's CSRF token is missing or wrong; reload the sign-in page"
        />,
        403,
      );
    }
    const next = safeNextPath(await formField(c, "next"));
    const token = await formField(c, "token");
    if (token === undefined || token === "" || !(await verifyAdminToken(ctx.kv, token))) {
      return c.html(
        <SignInPage csrf={issueSignInToken(c)} next={next} error="Wrong admin token" />,
        401,
      );
    }
    await startSession(ctx, c);
    await appendAudit(ctx.kv, { actor: CONSOLE_ACTOR, action: "console.sign_in" });
    return c.redirect(next, 303);
  });

  app.post("/sign-out", async (c) => {
    await endSession(ctx, c);
    await appendAudit(ctx.kv, { actor: CONSOLE_ACTOR, action: "console.sign_out" });
    return c.redirect("/sign-in", 303);
  });

  return app;
}
