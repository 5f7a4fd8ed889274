/**
 * What the console's pages share: their dependencies, the Hono environment (the signed-in session
 * as a context variable) and the actor console changes are audited under.
 *
 * @module
 */

import type { ConsoleSessionRecord } from "../../store/console_sessions.ts";
import type { AppContext, AppEnv } from "../../services/context.ts";

/** The actor every console change is recorded under (audit log, workflow versions). */
export const CONSOLE_ACTOR = "console:admin";

/**
 * The part of the app context the console uses: the store, configuration, services and clock,
 * the module lookup for dry runs and replays, and the metrics replays count in.
 */
export type ConsoleContext = Pick<
  AppContext,
  "kv" | "config" | "services" | "approvals" | "now" | "modules" | "triggers" | "metrics"
>;

/** A signed-in console session (its CSRF token and lifetime), as `store/console_sessions.ts` keeps it. */
export type ConsoleSession = ConsoleSessionRecord;

/** The console's Hono environment: the server's bindings plus the session of the request. */
export interface ConsoleEnv {
  Bindings: AppEnv["Bindings"];
  Variables: { session: ConsoleSession };
}
