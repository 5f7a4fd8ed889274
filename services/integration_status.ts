/**
 * Which integrations this Flowgate runs with: shown by `/healthz`, the chat's `status` command and
 * the start-up log.
 *
 * @module
 */

import {
  type ZeroMqAvailability,
  zeroMqAvailability,
} from "../modules/action/lib/zmq_publisher.ts";
import type { Config, SlackMode, TelegramMode } from "./config.ts";
import type { AppContext } from "./context.ts";

/** Longest wait for a live integration check before `/healthz` answers without it. */
export const INTEGRATION_CHECK_TIMEOUT_MS = 1_000;

/** The live state of the integrations: configured and working as far as a cheap check can tell. */
export interface IntegrationHealth {
  /** Every integration of `integrationStatus`, `false` where its check failed. */
  integrations: Record<string, boolean>;
  /** Why a configured integration does not work, by name (empty when all work). */
  errors: Record<string, string>;
}

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

/**
 * How each configured chat bot gets its messages: Slack `http` (POST /slack/events) or `socket`
 * (Socket Mode), Telegram `webhook` (POST /telegram) or `polling` (getUpdates). An unconfigured
 * platform is left out.
 */
export function chatTransports(
  config: Pick<Config, "slack" | "telegram">,
): { slack?: SlackMode; telegram?: TelegramMode } {
  return {
    ...(config.slack ? { slack: config.slack.mode } : {}),
    ...(config.telegram ? { telegram: config.telegram.mode } : {}),
  };
}

/**
 * `integrationStatus` checked for real where configuration alone proves nothing: ZeroMQ needs FFI
 * permission and its native addon (checked once per process, then cached). SMTP, MISP and
 * outbound hosts are not dialled: a health probe must stay fast and must not reach third
 * parties; their failures show on the runs. A check slower than `timeoutMs` counts as failed
 * for this answer and goes on in the background, so `/healthz` never waits longer.
 */
export async function checkIntegrations(
  ctx: Pick<AppContext, "config" | "services">,
  options: {
    timeoutMs?: number;
    /** The ZeroMQ check (default: FFI permission and the addon, `zeroMqAvailability`). */
    zeroMq?: () => Promise<ZeroMqAvailability>;
  } = {},
): Promise<IntegrationHealth> {
  const integrations = integrationStatus(ctx);
  const errors: Record<string, string> = {};
  if (integrations.zmq) {
    const timeoutMs = options.timeoutMs ?? INTEGRATION_CHECK_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<{ ok: false; reason: string }>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({ ok: false, reason: `still loading the ZeroMQ addon after ${timeoutMs} ms` }),
        timeoutMs,
      );
    });
    const zmq = await Promise.race([(options.zeroMq ?? zeroMqAvailability)(), late]);
    clearTimeout(timer);
    if (!zmq.ok) {
      integrations.zmq = false;
      errors.zmq = zmq.reason;
    }
  }
  return { integrations, errors };
}
