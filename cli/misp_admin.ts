/**
 * What `misp:connect` and `misp:check` share: the MISP administration client built from
 * `MISP_URL`, `MISP_API_KEY`, `MISP_TLS_VERIFY` and `MISP_CA_CERT` (every call with a timeout,
 * the key never printed), the triggers with enabled workflows in the KV, and help text.
 *
 * @module
 */

import { createMispClient } from "../modules/action/lib/misp_client.ts";
import { loadConfig } from "../services/config.ts";
import { createMispAdminApi, type MispAdminApi } from "../services/misp_admin_api.ts";
import {
  type ActionServiceAddress,
  actionServiceAddressOf,
  triggersWithEnabledWorkflows,
} from "../services/misp_connect.ts";
import { printLine, UsageError } from "./cli_support.ts";
import { describeKv, KV_HELP, openCliKv } from "./kv_path.ts";

/** Time one MISP call of `misp:connect` / `misp:check` may take. */
export const MISP_ADMIN_TIMEOUT_MS = 15_000;

/** The environment help of both commands. */
export const MISP_ADMIN_ENV_HELP = `${KV_HELP}
  MISP_URL, MISP_API_KEY       MISP's REST API and a site-admin key (required; never printed)
  MISP_TLS_VERIFY, MISP_CA_CERT  as for Flowgate (a self-signed MISP: its certificate)`;

/**
 * The Action service address MISP must use, from `--flowgate-url` (undefined when not given).
 *
 * @throws {UsageError} saying what is wrong with the URL
 */
export function flowgateAddressOption(
  flowgateUrl: string | undefined,
): ActionServiceAddress | undefined {
  if (flowgateUrl === undefined) return undefined;
  try {
    return actionServiceAddressOf(flowgateUrl);
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
}

/** A MISP client and the KV's wired triggers, opened for one command. */
export interface MispAdminSession extends Disposable {
  misp: MispAdminApi;
  kv: Deno.Kv;
  /** Trigger ids with at least one enabled Flowgate workflow. */
  triggers: string[];
}

/**
 * Builds the MISP client from the environment, opens the KV and reads which triggers have an
 * enabled workflow; prints where MISP and the KV are.
 *
 * @throws {UsageError} when MISP is not configured or the KV does not exist
 */
export async function openMispAdminSession(): Promise<MispAdminSession> {
  const config = loadConfig();
  if (!config.misp) {
    throw new UsageError(
      "MISP_URL and MISP_API_KEY are not set: give MISP's URL and a site-admin API key",
    );
  }
  const misp = createMispAdminApi(createMispClient({
    url: config.misp.url,
    apiKey: config.misp.apiKey,
    tlsVerify: config.misp.tlsVerify,
    timeoutMs: MISP_ADMIN_TIMEOUT_MS,
    ...(config.misp.caCertFile ? { caCerts: [await readCaCert(config.misp.caCertFile)] } : {}),
  }));
  const { kv, path } = await openCliKv({ mustExist: true });
  const triggers = await triggersWithEnabledWorkflows(kv);
  printLine(`MISP: ${config.misp.url}`);
  printLine(`Flowgate's KV: ${describeKv(path)}`);
  printLine(
    `Triggers with an enabled Flowgate workflow: ${
      triggers.length > 0 ? triggers.join(", ") : "none"
    }`,
  );
  return { misp, kv, triggers, [Symbol.dispose]: () => kv.close() };
}

async function readCaCert(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new UsageError(`Cannot read MISP_CA_CERT "${path}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}
