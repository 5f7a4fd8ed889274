/**
 * What the server's parts share: the dependencies `createApp` takes and the Hono environment type
 * (the connection info `Deno.serve` passes as `c.env`).
 *
 * @module
 */

import type { ChatOptions } from "../bot/chat_routes.ts";
import type { ModuleLookup } from "../engine/walker.ts";
import type { ModuleServices } from "../engine/module_services.ts";
import type { IntakeResult, RecordIntakeOptions } from "../store/intake.ts";
import type { RunToSave } from "../store/runs.ts";
import type { RunRecord } from "../store/types.ts";
import type { Config } from "./config.ts";
import type { GroupCommitter } from "./group_commit.ts";
import type { InFlightRuns } from "./in_flight.ts";
import type { Metrics } from "./metrics.ts";
import type { MispModulesProxy } from "./misp_modules_proxy.ts";

/** Hono's environment: `c.env` is `Deno.serve`'s handler info (tests pass `{ remoteAddr }`). */
export interface AppEnv {
  Bindings: { remoteAddr?: { hostname: string; port?: number; transport?: string } };
}

/** The dependencies of the app and the queue listener; tests replace any of them. */
export interface AppDeps {
  kv: Deno.Kv;
  config: Config;
  services: ModuleServices;
  /** Milliseconds since the epoch (default `Date.now`). */
  clock?: () => number;
  /** Fetch used for the misp-modules proxy (default the global fetch). */
  fetch?: typeof fetch;
  /** Shared with the queue listener so `/metrics` sees queue work too. */
  metrics?: Metrics;
  /** The misp-modules proxy; built from `config.mispModulesUrl` when absent. */
  proxy?: MispModulesProxy | null;
  /** Where workflow modules are found (default the registry; tests add slow or failing ones). */
  modules?: ModuleLookup;
  /** Shared with the queue listener so verdicts see the queue's in-flight runs. */
  inFlight?: InFlightRuns;
  /** Chat bot options (bot ids, Web API retries); tests pass them so no platform call is made. */
  chat?: ChatOptions;
}

/** `AppDeps` with every optional part resolved. */
export interface AppContext {
  kv: Deno.Kv;
  config: Config;
  services: ModuleServices;
  now: () => number;
  metrics: Metrics;
  proxy: MispModulesProxy | null;
  modules: ModuleLookup;
  /** Group commit of webhook intakes. */
  intakes: GroupCommitter<RecordIntakeOptions, IntakeResult>;
  /** Group commit of run records (verdicts). */
  runs: GroupCommitter<RunToSave[], void>;
  /** Queue runs in progress, for the re-entrancy guard. */
  inFlight: InFlightRuns;
  /** Posts the card of a blocked run to chat without waiting; `createApp` sets it (bot/). */
  announceBlockedRun?: (run: RunRecord) => void;
}
