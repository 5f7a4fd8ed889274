/**
 * Builds the `ModuleServices` actions use from the configuration: every unset integration is
 * `null`, so its modules fail with a clear "set X" error instead of crashing.
 *
 * @module
 */

import { renderTemplate } from "../engine/template.ts";
import { createSmtpTransport } from "../modules/action/lib/mail_transport.ts";
import { createMispClient } from "../modules/action/lib/misp_client.ts";
import { createOutboundFetch } from "../modules/action/lib/outbound.ts";
import type { ModuleServices } from "../engine/module_services.ts";
import { type Config, configSecrets } from "./config.ts";
import { createZmqPublisher } from "../modules/action/lib/zmq_publisher.ts";
import { createEnrichmentInputs } from "../modules/action/lib/enrichment_inputs.ts";

/** Options of `createModuleServices`. */
export interface ModuleServicesOptions {
  /** Clock, milliseconds since the epoch. */
  now?: () => number;
  /** Fetch the MISP client uses (tests point it at a local fake). */
  fetch?: typeof fetch;
}

/** The services for `config`; integrations not configured are `null`. */
export function createModuleServices(
  config: Config,
  options: ModuleServicesOptions = {},
): ModuleServices {
  return {
    outboundFetch: createOutboundFetch({ allow: config.outboundAllow }),
    misp: config.misp
      ? createMispClient({
        url: config.misp.url,
        apiKey: config.misp.apiKey,
        tlsVerify: config.misp.tlsVerify,
        ...(config.misp.caCertFile
          ? { caCerts: [Deno.readTextFileSync(config.misp.caCertFile)] }
          : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      })
      : null,
    mail: config.smtpUrl ? createSmtpTransport(config.smtpUrl) : null,
    zmq: config.zmqEndpoint ? createZmqPublisher(config.zmqEndpoint) : null,
    enrichmentInputs: config.mispModulesUrl
      ? createEnrichmentInputs(config.mispModulesUrl, options.fetch ? { fetch: options.fetch } : {})
      : null,
    renderTemplate,
    now: options.now ?? Date.now,
    secrets: configSecrets(config),
  };
}
