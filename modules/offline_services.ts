/**
 * Module services with every integration off: what the CLI's dry runs, benchmarks and tests use.
 * Actions then record what they would do (dry runs) or fail with a clear "set X" error.
 *
 * @module
 */

import { renderTemplate } from "../engine/template.ts";
import type { ModuleServices } from "../engine/module_services.ts";

/** Services with no MISP, mail, ZeroMQ or outbound HTTP; `overrides` replaces any member. */
export function offlineServices(overrides: Partial<ModuleServices> = {}): ModuleServices {
  return {
    outboundFetch: null,
    misp: null,
    mail: null,
    zmq: null,
    renderTemplate,
    now: () => Date.now(),
    secrets: [],
    ...overrides,
  };
}
