/**
 * Web console sessions in KV: stored under the SHA-256 of the session id (a stolen KV dump holds
 * no usable cookie), expiring with `expireIn` plus a check of the stored expiry on read.
 *
 * @module
 */

import { sha256Hex } from "../engine/digest.ts";

/** KV key prefix of sessions: `["console_sessions", sha256(id)]` → `ConsoleSessionRecord`. */
export const KEY_CONSOLE_SESSIONS = "console_sessions";

/** What a console session keeps: its CSRF token and its lifetime. */
export interface ConsoleSessionRecord {
  /** Per-session CSRF token every form sends back. */
  csrf: string;
  "created_at": string;
  "expires_at": string;
}

async function sessionKey(id: string): Promise<Deno.KvKey> {
  return [KEY_CONSOLE_SESSIONS, await sha256Hex(id)];
}

/** Stores a session for `ttlMs`. */
export async function saveConsoleSession(
  kv: Deno.Kv,
  id: string,
  session: ConsoleSessionRecord,
  ttlMs: number,
): Promise<void> {
  await kv.set(await sessionKey(id), session, { expireIn: ttlMs });
}

/** The session of `id` if it exists and has not expired at `now` (KV purges lazily). */
export async function getConsoleSession(
  kv: Deno.Kv,
  id: string,
  now: number,
): Promise<ConsoleSessionRecord | null> {
  const session = (await kv.get<ConsoleSessionRecord>(await sessionKey(id))).value;
  return session && Date.parse(session.expires_at) > now ? session : null;
}

/** Deletes the session of `id` (sign-out). */
export async function deleteConsoleSession(kv: Deno.Kv, id: string): Promise<void> {
  await kv.delete(await sessionKey(id));
}
