/**
 * Request authentication: the admin bearer token, MISP's address allowlist and the webhook token.
 * Every secret comparison runs in constant time.
 *
 * @module
 */

import ipaddr from "ipaddr.js";
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { verifyAdminToken } from "../store/admin_token.ts";
import { constantTimeEquals } from "../services/constant_time.ts";
import type { AppEnv } from "../services/context.ts";

/** Kept here for the callers of the auth helpers; it lives in the service layer. */
export { constantTimeEquals } from "../services/constant_time.ts";

/** Header MISP's Webhook module can send when a proxy in front eats `Authorization`. */
export const HOOK_TOKEN_HEADER = "X-Flowgate-Token";

/** A parsed allowlist of CIDR ranges. */
export type AddressAllowlist = [ipaddr.IPv4 | ipaddr.IPv6, number][];

/** Parses a list of CIDRs or plain addresses (a plain address is a /32 or /128). */
export function parseAllowlist(entries: string[]): AddressAllowlist {
  return entries.map((entry) => {
    if (entry.includes("/")) return ipaddr.parseCIDR(entry);
    const address = ipaddr.parse(entry);
    return [address, address.kind() === "ipv4" ? 32 : 128];
  });
}

/** True when `address` (IPv4, IPv6 or IPv4-mapped IPv6) is inside one of the ranges. */
export function isAddressAllowed(address: string, allowlist: AddressAllowlist): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return allowlist.some(([range, bits]) =>
    range.kind() === parsed.kind() && parsed.match(range, bits)
  );
}

/**
 * The caller's address: the connection's remote address, or, only when that address is a trusted
 * proxy, the nearest untrusted hop of `X-Forwarded-For`.
 */
export function remoteAddress(
  connection: string | undefined,
  forwardedFor: string | undefined,
  trustedProxies: AddressAllowlist,
): string | undefined {
  if (connection === undefined) return undefined;
  if (!forwardedFor || trustedProxies.length === 0) return connection;
  if (!isAddressAllowed(connection, trustedProxies)) return connection;
  const hops = forwardedFor.split(",").map((hop) => hop.trim()).filter((hop) => hop !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (!isAddressAllowed(hop, trustedProxies)) return hop;
  }
  return hops[0] ?? connection;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/** Refuses admin routes without a valid `Authorization: Bearer <admin token>` (401). */
export function adminAuth(kv: Deno.Kv): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header("Authorization"));
    if (token === undefined || !(await verifyAdminToken(kv, token))) {
      throw new HTTPException(401, {
        message: 'Missing or invalid admin token: send "Authorization: Bearer <admin token>"',
      });
    }
    await next();
  };
}

/** Options of `mispAllowlist`. */
export interface MispAllowlistOptions {
  /**
   * Answer a refusal as MISP's module error (HTTP 200 `{"error": …}`) instead of a 403. For
   * `/query`: MISP takes any non-2xx answer as success, so a MISP left out of the allowlist would
   * have every blocking trigger allowed; with this it is blocked and shown why.
   */
  refuseAsModuleError?: boolean;
}

/** Lets only allowlisted addresses reach the MISP Action-service routes (403 otherwise). */
export function mispAllowlist(
  allow: string[],
  trustedProxies: string[],
  options: MispAllowlistOptions = {},
): MiddlewareHandler<AppEnv> {
  const allowlist = parseAllowlist(allow);
  const proxies = parseAllowlist(trustedProxies);
  return async (c, next) => {
    const address = remoteAddress(
      c.env?.remoteAddr?.hostname,
      c.req.header("X-Forwarded-For"),
      proxies,
    );
    if (address === undefined || !isAddressAllowed(address, allowlist)) {
      const message = `Address "${address ?? "unknown"}" may not call the Action service: ` +
        "add it to FLOWGATE_MISP_ALLOW";
      if (options.refuseAsModuleError) return c.json({ error: message }, 200);
      throw new HTTPException(403, { message });
    }
    await next();
  };
}

/**
 * Checks MISP's Webhook token (`Authorization: Bearer <token>` or `X-Flowgate-Token: <token>`);
 * with no `FLOWGATE_HOOK_TOKEN` configured every hook is refused with 503.
 */
export function hookAuth(hookToken: string | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (hookToken === undefined) {
      throw new HTTPException(503, {
        message: "Webhooks are disabled: set FLOWGATE_HOOK_TOKEN and send it as a bearer token",
      });
    }
    const presented = bearerToken(c.req.header("Authorization")) ??
      c.req.header(HOOK_TOKEN_HEADER)?.trim();
    if (presented === undefined || !(await constantTimeEquals(presented, hookToken))) {
      throw new HTTPException(401, {
        message: `Missing or invalid hook token: send "Authorization: Bearer <token>" or ` +
          `"${HOOK_TOKEN_HEADER}: <token>"`,
      });
    }
    await next();
  };
}
