/**
 * What the console's pages share: their dependencies, the Hono environment (the signed-in session
 * as a context variable) and the actor console changes are audited under.
 *
 * @module
 */

import type { ConsoleSessionRecord } from "../../store/console_sessions.ts";
import type { ModuleLookup } from "../../engine/walker.ts";
import type { ModuleServices } from "../../engine/module_services.ts";
import type { Config } from "../../services/config.ts";
import type { AppEnv } from "../../services/context.ts";

/** The actor every console change is recorded under (audit log, workflow versions). */
export const CONSOLE_ACTOR = "console:admin";

/** The dependencies of `createConsole`: the server's, of which the console uses a subset. */
export interface ConsoleDeps {
  kv: Deno.Kv;
  config: Config;
  services: ModuleServices;
  /** Milliseconds since the epoch (default `Date.now`). */
  clock?: () => number;
  /** Where workflow modules are found for dry runs and replays (default the registry). */
  modules?: ModuleLookup;
}

/** `ConsoleDeps` with every optional part resolved. */
export interface ConsoleContext {
  kv: Deno.Kv;
  config: Config;
  services: ModuleServices;
  now: () => number;
  modules: ModuleLookup;
}

/** A signed-in console session (its CSRF token and lifetime), as `store/console_sessions.ts` keeps it. */
export type ConsoleSession = ConsoleSessionRecord;

/** The console's Hono environment: the server's bindings plus the session of the request. */
export interface ConsoleEnv {
  Bindings: AppEnv["Bindings"];
  Variables: { session: ConsoleSession };
}
