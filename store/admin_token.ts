/**
 * The admin API token: generated on first start when none is configured, stored only as its
 * SHA-256, and compared in constant time.
 *
 * @module
 */

import { sha256Hex } from "./chunks.ts";
import { ADMIN_TOKEN_BYTES, KEY_ADMIN_TOKEN } from "./keys.ts";

/** What is stored under `["admin_token"]`. */
export interface AdminTokenRecord {
  /** Hex SHA-256 of the token. */
  sha256: string;
  source: "generated" | "configured";
  "created_at": string;
}

const ADMIN_TOKEN_KEY: Deno.KvKey = [KEY_ADMIN_TOKEN];

/** What `ensureAdminToken` did, for the start-up log. */
export interface EnsuredAdminToken {
  /** A token generated now: print it once, it is stored only hashed. */
  token?: string;
  /** The stored token a configured one just replaced (it no longer works): its source and date. */
  replaced?: Pick<AdminTokenRecord, "source" | "created_at">;
}

/**
 * Makes sure an admin token exists. A configured token (`FLOWGATE_ADMIN_TOKEN`) replaces the
 * stored hash and says which token it replaced; without one, a first start generates 32 random
 * bytes (base64url) and returns them so the caller can print the token once. Later starts return
 * `{}`.
 */
export async function ensureAdminToken(
  kv: Deno.Kv,
  configured?: string,
): Promise<EnsuredAdminToken> {
  const entry = await kv.get<AdminTokenRecord>(ADMIN_TOKEN_KEY);
  if (configured) {
    const sha256 = await hashToken(configured);
    if (entry.value?.sha256 === sha256) return {};
    await kv.set(ADMIN_TOKEN_KEY, record(sha256, "configured"));
    return entry.value
      ? { replaced: { source: entry.value.source, created_at: entry.value.created_at } }
      : {};
  }
  if (entry.value) return {};
  const token = toBase64Url(crypto.getRandomValues(new Uint8Array(ADMIN_TOKEN_BYTES)));
  const result = await kv.atomic()
    .check(entry)
    .set(ADMIN_TOKEN_KEY, record(await hashToken(token), "generated"))
    .commit();
  // Another process generated one first: its token stands, ours was never stored.
  return result.ok ? { token } : {};
}

/** True when `presented` is the admin token; the hashes are compared in constant time. */
export async function verifyAdminToken(kv: Deno.Kv, presented: string): Promise<boolean> {
  const stored = (await kv.get<AdminTokenRecord>(ADMIN_TOKEN_KEY)).value;
  const presentedHash = await hashToken(presented);
  if (!stored) return false;
  return constantTimeEqual(presentedHash, stored.sha256);
}

function record(sha256: string, source: AdminTokenRecord["source"]): AdminTokenRecord {
  return { sha256, source, created_at: new Date().toISOString() };
}

function hashToken(token: string): Promise<string> {
  return sha256Hex(new TextEncoder().encode(token));
}

/** Compares two strings without an early exit, so timing does not leak the matching prefix. */
function constantTimeEqual(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    difference |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  }
  return difference === 0;
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
