/**
 * Where the command-line tools find the KV store: `FLOWGATE_KV`, else `./data/flowgate.kv`.
 *
 * @module
 */

import { DEFAULT_KV_PATH } from "../services/config.ts";

/** The KV path or URL from `FLOWGATE_KV`, or the default local file. */
export function kvPathFromEnv(): string {
  return Deno.env.get("FLOWGATE_KV") || DEFAULT_KV_PATH;
}
