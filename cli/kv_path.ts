/**
 * Where the command-line tools find the KV store: `FLOWGATE_KV`, else `./data/flowgate.kv`; and
 * how they name it, so every message says which KV a command read or wrote.
 *
 * @module
 */

import { DEFAULT_KV_PATH } from "../services/config.ts";
import { isLocalKvPath } from "../store/kv_lock.ts";
import { UsageError } from "./cli_support.ts";

/** The help lines every KV-using command shows for `FLOWGATE_KV`. */
export const KV_HELP =
  `Environment:\n  FLOWGATE_KV  the KV file or URL to use (default ${DEFAULT_KV_PATH})`;

/** The KV path or URL from `FLOWGATE_KV`, or the default local file. */
export function kvPathFromEnv(): string {
  return Deno.env.get("FLOWGATE_KV") || DEFAULT_KV_PATH;
}

/**
 * The KV in words, for messages: `"/srv/flowgate.kv" (FLOWGATE_KV)` or
 * `"./data/flowgate.kv" (the default; set FLOWGATE_KV for another)`.
 */
export function describeKv(path: string = kvPathFromEnv()): string {
  return Deno.env.get("FLOWGATE_KV")
    ? `"${path}" (FLOWGATE_KV)`
    : `"${path}" (the default; set FLOWGATE_KV for another)`;
}

/** Options of `openCliKv`. */
export interface OpenCliKvOptions {
  /** Refuse a local KV file that does not exist yet instead of creating an empty one. */
  mustExist?: boolean;
}

/**
 * Opens the KV of `FLOWGATE_KV` (or the default file) for a command.
 *
 * @throws {UsageError} naming the KV when it does not exist (`mustExist`) or cannot be opened
 */
export async function openCliKv(
  options: OpenCliKvOptions = {},
): Promise<{ kv: Deno.Kv; path: string }> {
  const path = kvPathFromEnv();
  if (options.mustExist && !(await kvExists(path))) {
    throw new UsageError(
      `No KV ${describeKv(path)}: start Flowgate once, or point FLOWGATE_KV at its KV`,
    );
  }
  try {
    return { kv: await Deno.openKv(path), path };
  } catch (error) {
    throw new UsageError(`Cannot open the KV ${describeKv(path)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Whether the KV at `path` is there: a local file that exists, or a remote or in-memory KV. */
export async function kvExists(path: string): Promise<boolean> {
  if (!isLocalKvPath(path)) return true;
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
