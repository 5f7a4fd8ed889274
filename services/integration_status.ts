/**
 * Which integrations this Flowgate runs with: shown by `/healthz`, the chat's `status` command and
 * the start-up log.
 *
 * @module
 */

import type { AppContext } from "./context.ts";

/** Which integrations are configured; `/healthz`, chat and the start-up log show it. */
export function integrationStatus(
  ctx: Pick<AppContext, "config" | "services">,
): Record<string, boolean> {
  const { config, services } = ctx;
  return {
    misp: services.misp !== null,
    smtp: services.mail !== null,
    zmq: services.zmq !== null,
    outbound_http: services.outboundFetch !== null,
    slack: config.slack !== null,
    telegram: config.telegram !== null,
    webhooks: config.hookToken !== undefined,
    misp_modules: config.mispModulesUrl !== undefined,
    workflows_dir: config.workflowsDir !== undefined,
  };
}
