/**
 * The app context: what the HTTP app, the queue listener and the chat share, built once by
 * `createAppContext` (in `main.ts`, and by tests) and never completed afterwards. Each consumer
 * takes the `Pick<AppContext, …>` it uses. Also the Hono environment type (the connection info
 * `Deno.serve` passes as `c.env`).
 *
 * @module
 */

import type { TriggerLookup } from "../engine/trigger_contract.ts";
import type { ModuleLookup } from "../engine/walker.ts";
import type { ModuleServices, WorkflowRunner } from "../engine/module_services.ts";
import { ENGINE_LOOKUPS } from "../modules/registry.ts";
import type { IntakeResult, RecordIntakeOptions } from "../store/intake.ts";
import type { RunToSave } from "../store/runs.ts";
import type { RunRecord } from "../store/types.ts";
import { RunAnnouncements } from "./announcements.ts";
import { type ApprovalService, createApprovalService } from "./approvals.ts";
import type { Config } from "./config.ts";
import type { GroupCommitter } from "./group_commit.ts";
import { InFlightRuns } from "./in_flight.ts";
import { createIntakeCommitter } from "./intake.ts";
import { Metrics } from "./metrics.ts";
import { createForegroundPriority, type ForegroundPriority } from "./foreground_priority.ts";
import { createMispModulesProxy, type MispModulesProxy } from "./misp_modules_proxy.ts";
import { createRunCommitter } from "./verdict.ts";
import { createWorkflowRunner } from "./workflow_runner.ts";
import type { VerdictWorkers } from "./verdict_workers.ts";

/** Hono's environment: `c.env` is `Deno.serve`'s handler info (tests pass `{ remoteAddr }`). */
export interface AppEnv {
  Bindings: { remoteAddr?: { hostname: string; port?: number; transport?: string } };
}

/** What `createAppContext` takes; tests replace any of it. */
export interface AppDeps {
  kv: Deno.Kv;
  config: Config;
  /** The integrations actions use (`createModuleServices`); approvals and runner are added. */
  services: ModuleServices;
  /**
   * The publish gate: `true` builds the approval service over `kv` and `services.misp` (as
   * `main.ts` does), or pass one already built. Without it there is none (most tests).
   */
  approvals?: boolean | ApprovalService;
  /** Milliseconds since the epoch (default `Date.now`). */
  clock?: () => number;
  /** Fetch used for the misp-modules proxy (default the global fetch). */
  fetch?: typeof fetch;
  /** Counters of `/metrics` (default new ones). */
  metrics?: Metrics;
  /** The misp-modules proxy; built from `config.mispModulesUrl` when absent. */
  proxy?: MispModulesProxy | null;
  /** Where workflow modules are found (default the registry; tests add slow or failing ones). */
  modules?: ModuleLookup;
  /** Where trigger definitions are found (default the catalogue). */
  triggers?: TriggerLookup;
  /** Queue runs in progress (default none yet). */
  inFlight?: InFlightRuns;
  /** Requests first, queued runs after (default `createForegroundPriority` over `metrics`). */
  foreground?: ForegroundPriority;
  /**
   * Threads that decide `/query` verdicts (default none: all on the server's thread). They run
   * the registry's modules, the catalogue's triggers and the real clock, so a context given its
   * own `modules`, `triggers` or `clock` does not use them.
   */
  verdictWorkers?: VerdictWorkers | null;
}

/** The app context: `AppDeps` resolved, with the parts built from them. */
export interface AppContext {
  kv: Deno.Kv;
  config: Config;
  /** The module services, with the approval service (when asked for) and `runWorkflow`. */
  services: ModuleServices;
  now: () => number;
  metrics: Metrics;
  proxy: MispModulesProxy | null;
  modules: ModuleLookup;
  triggers: TriggerLookup;
  /** The publish gate's service (also `services.approvals`, as modules see it), or null. */
  approvals: ApprovalService | null;
  /** Group commit of webhook intakes. */
  intakes: GroupCommitter<RecordIntakeOptions, IntakeResult>;
  /** Group commit of run records (verdicts). */
  runs: GroupCommitter<RunToSave[], void>;
  /** Queue runs in progress, for the re-entrancy guard. */
  inFlight: InFlightRuns;
  /** The requests being handled, which queued work waits for (within a bound). */
  foreground: ForegroundPriority;
  /** Threads that decide `/query` verdicts, or null to decide them on the server's thread. */
  verdictWorkers: VerdictWorkers | null;
  /** Where blocked runs are announced; the chat subscribes (`main.ts`). */
  announcements: RunAnnouncements;
  /** Tells the subscribers of `announcements` of a blocked run, without waiting for them. */
  announceBlockedRun: (run: RunRecord) => void;
}

/**
 * Builds the app context once: the services whole (approval service, then the workflow runner
 * over those same services), the group committers, metrics, the misp-modules proxy and the
 * announcement hub. The HTTP app, the queue listener and the chat all take this one context.
 *
 * @param deps kv, config and module services, optionally the rest of `AppDeps`
 * @returns the context; nothing in it is replaced afterwards
 */
export function createAppContext(deps: AppDeps): AppContext {
  const { kv, config } = deps;
  const now = deps.clock ?? Date.now;
  const modules = deps.modules ?? ENGINE_LOOKUPS.modules;
  const triggers = deps.triggers ?? ENGINE_LOOKUPS.triggers;
  const approvals = deps.approvals === true
    ? createApprovalService({ kv, misp: deps.services.misp, now })
    : deps.approvals || null;
  // `run-workflow` runs stored workflows with these same services, runner included: the closure
  // breaks the cycle, so the services object is built whole and never completed afterwards.
  const runWorkflow: WorkflowRunner = deps.services.runWorkflow ??
    ((name, data, options) => runner(name, data, options));
  const services: ModuleServices = {
    ...deps.services,
    ...(approvals ? { approvals } : {}),
    runWorkflow,
  };
  const runner = createWorkflowRunner({ kv, services, modules, triggers });
  const announcements = new RunAnnouncements();
  const metrics = deps.metrics ?? new Metrics();
  return {
    kv,
    config,
    services,
    now,
    metrics,
    proxy: deps.proxy !== undefined
      ? deps.proxy
      : config.mispModulesUrl
      ? createMispModulesProxy(config.mispModulesUrl, { fetch: deps.fetch, now })
      : null,
    modules,
    triggers,
    approvals,
    intakes: createIntakeCommitter(kv),
    runs: createRunCommitter(kv, config.retentionDays),
    inFlight: deps.inFlight ?? new InFlightRuns(),
    foreground: deps.foreground ?? createForegroundPriority(() => metrics.queuePending),
    verdictWorkers: deps.modules || deps.triggers || deps.clock
      ? null
      : deps.verdictWorkers ?? null,
    announcements,
    announceBlockedRun: (run) => announcements.announceBlocked(run),
  };
}
