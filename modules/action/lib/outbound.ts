/**
 * The one HTTP client for URLs that come from workflow params (webhook, Teams, Splunk, chat
 * APIs): SSRF-checked, pinned to the checked address, redirect-checked, time-boxed and size-capped.
 *
 * DNS rebinding: the host name is resolved once, every address is checked, and the connection is
 * made to the first checked address through `node:http`/`node:https` with a `lookup` that returns
 * only that address, while the URL keeps the name (so `Host`, TLS SNI and certificate checks use
 * the name). A second resolution by the platform cannot swap the address. Limits: only A and AAAA
 * records are read (no CNAME chasing beyond what the resolver does); a name is refused when any of
 * its addresses is blocked; HTTP proxies from the environment are not used. Deno's `fetch` cannot
 * do this: its `tcp` transport sends plain HTTP to https URLs, and `Deno.createHttpClient` has no
 * per-client switch to skip certificate checks, which `allowSelfSigned` needs, so `node:https`
 * with `rejectUnauthorized: false` for that one request is used instead.
 *
 * @module
 */

import http from "node:http";
import https from "node:https";
import type { IncomingMessage } from "node:http";
import ipaddr from "ipaddr.js";
import type {
  OutboundFetch,
  OutboundRequest,
  OutboundResponse,
} from "../../../engine/module_services.ts";
import { TransientError } from "../../../engine/module_errors.ts";
import {
  OUTBOUND_MAX_REDIRECTS,
  OUTBOUND_MAX_RESPONSE_BYTES,
  OUTBOUND_TIMEOUT_MS,
} from "../../../engine/limits.ts";
import { redactUrl } from "./redact.ts";

/** Options of `createOutboundFetch`. */
export interface OutboundFetchOptions {
  /** CIDR ranges (or single addresses) reachable although loopback, private or link-local. */
  allow: string[];
  /** Default time budget per call, redirects included. */
  timeoutMs?: number;
  /** Default cap on the answer body, in bytes. */
  maxResponseBytes?: number;
  /** Resolves a host name to its addresses (default: A and AAAA through `Deno.resolveDns`). */
  resolve?: (hostname: string) => Promise<string[]>;
}

/** A call refused before any byte left: bad scheme, credentials in the URL, or a blocked address. */
export class OutboundBlockedError extends Error {
  /** The refused URL, secrets redacted. */
  readonly url: string;

  /** Creates the error for `url` (redacted here) with `reason` after the colon. */
  constructor(url: string, reason: string) {
    super(`Refused to call "${redactUrl(url)}": ${reason}`);
    this.name = "OutboundBlockedError";
    this.url = redactUrl(url);
  }
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

const RANGE_WORDS: Record<string, string> = {
  unspecified: "an unspecified address",
  broadcast: "a broadcast address",
  multicast: "a multicast address",
  linkLocal: "a link-local address",
  loopback: "a loopback address",
  carrierGradeNat: "a carrier-grade NAT address",
  private: "a private address",
  uniqueLocal: "a private (unique local) address",
  reserved: "a reserved address",
};

/** Cloud metadata endpoints, named as such in refusals. */
const METADATA_ADDRESSES = new Set(["169.254.169.254", "fd00:ec2::254", "100.100.100.200"]);

/** Reads `FLOWGATE_OUTBOUND_ALLOW` (comma-separated CIDRs or addresses) into a list. */
export function parseOutboundAllow(value: string | undefined): string[] {
  return (value ?? "").split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
}

function parseCidr(entry: string): Cidr {
  try {
    if (entry.includes("/")) return ipaddr.parseCIDR(entry);
    const address = ipaddr.parse(entry);
    return [address, address.kind() === "ipv4" ? 32 : 128];
  } catch (cause) {
    throw new TypeError(
      `Cannot read FLOWGATE_OUTBOUND_ALLOW: "${entry}" is not an address or CIDR range`,
      { cause },
    );
  }
}

/**
 * Why `address` may not be called (e.g. "a private address"), or null when it may: public
 * unicast, or inside one of `allow`. IPv4-mapped IPv6 addresses are judged as their IPv4 address.
 */
function blockedReason(address: string, allow: readonly Cidr[]): string | null {
  const parsed = ipaddr.process(address);
  for (const [range, bits] of allow) {
    if (range.kind() === parsed.kind() && parsed.match(range, bits)) return null;
  }
  const normalized = parsed.toString();
  if (METADATA_ADDRESSES.has(normalized)) return "a cloud metadata address";
  const range = parsed.range();
  if (range === "unicast") return null;
  return RANGE_WORDS[range] ?? `a special-purpose address ("${range}")`;
}

async function resolveWithDns(hostname: string): Promise<string[]> {
  const answers = await Promise.allSettled([
    Deno.resolveDns(hostname, "A"),
    Deno.resolveDns(hostname, "AAAA"),
  ]);
  return answers.flatMap((answer) => answer.status === "fulfilled" ? answer.value : []);
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

/** The address to connect to for `url`, after checking every address the host has. */
async function checkedAddress(
  url: URL,
  allow: readonly Cidr[],
  resolve: (hostname: string) => Promise<string[]>,
): Promise<string> {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OutboundBlockedError(url.href, `only http and https URLs are allowed`);
  }
  if (url.username || url.password) {
    throw new OutboundBlockedError(url.href, "credentials in URLs are not allowed");
  }
  const host = hostOf(url);
  const literal = ipaddr.isValid(host);
  let addresses: string[];
  if (literal) {
    addresses = [host];
  } else {
    try {
      addresses = await resolve(host);
    } catch (cause) {
      throw new TransientError(`Cannot resolve "${host}": ${messageOf(cause)}`, { cause });
    }
    if (addresses.length === 0) throw new TransientError(`Cannot resolve "${host}": no address`);
  }
  for (const address of addresses) {
    const reason = blockedReason(address, allow);
    if (reason === null) continue;
    const who = literal ? `${address} is` : `${host} resolves to ${address},`;
    throw new OutboundBlockedError(
      url.href,
      `${who} ${reason}; allow it with FLOWGATE_OUTBOUND_ALLOW`,
    );
  }
  return ipaddr.process(addresses[0]!).toString();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface Hop {
  url: URL;
  address: string;
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  allowSelfSigned: boolean;
  signal: AbortSignal;
}

/** Sends one request to the pinned address; resolves with the response head (body unread). */
function sendHop(hop: Hop): Promise<IncomingMessage> {
  const family = ipaddr.parse(hop.address).kind() === "ipv4" ? 4 : 6;
  const lookup = (
    _hostname: string,
    options: { all?: boolean } | undefined,
    callback: (...args: unknown[]) => void,
  ) => {
    if (options?.all) callback(null, [{ address: hop.address, family }]);
    else callback(null, hop.address, family);
  };
  const headers: Record<string, string | number> = { ...hop.headers };
  if (hop.body !== undefined) headers["Content-Length"] = byteLength(hop.body);
  const options = {
    protocol: hop.url.protocol,
    hostname: hostOf(hop.url),
    port: hop.url.port || undefined,
    path: hop.url.pathname + hop.url.search,
    method: hop.method,
    headers,
    lookup,
    agent: false,
    signal: hop.signal,
    rejectUnauthorized: !hop.allowSelfSigned,
  };
  const client = hop.url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(options as https.RequestOptions, resolve);
    request.on("error", reject);
    request.end(hop.body);
  });
}

function byteLength(body: string | Uint8Array): number {
  return typeof body === "string" ? new TextEncoder().encode(body).byteLength : body.byteLength;
}

/** Reads at most `limit` bytes of the body; stops the transfer when the answer is longer. */
async function readCapped(
  response: IncomingMessage,
  limit: number,
): Promise<{ body: string; truncated: boolean }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of response as AsyncIterable<Uint8Array>) {
    const room = limit - size;
    if (chunk.byteLength > room) {
      chunks.push(chunk.subarray(0, room));
      size = limit;
      truncated = true;
      break;
    }
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  if (truncated) response.destroy();
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { body: new TextDecoder().decode(bytes), truncated };
}

function toHeaders(response: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

/** Request for the next hop of a redirect, as `fetch` does it (303, and 301/302 after POST → GET). */
function redirectedHop(hop: Hop, status: number, location: URL): Omit<Hop, "address"> {
  const toGet = status === 303 || ((status === 301 || status === 302) && hop.method === "POST");
  const headers = { ...hop.headers };
  if (toGet) {
    for (const name of Object.keys(headers)) {
      if (/^content-(type|length)$/i.test(name)) delete headers[name];
    }
  }
  if (location.origin !== hop.url.origin) {
    for (const name of Object.keys(headers)) {
      if (/^(authorization|cookie)$/i.test(name)) delete headers[name];
    }
  }
  return {
    url: location,
    method: toGet && hop.method !== "HEAD" ? "GET" : hop.method,
    headers,
    body: toGet ? undefined : hop.body,
    allowSelfSigned: hop.allowSelfSigned,
    signal: hop.signal,
  };
}

/** Certificate failures: retrying will not help, so they are not transient. */
const TLS_ERROR_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET)/;

function wireError(url: URL, timeoutMs: number, error: unknown): Error {
  const target = redactUrl(url.href);
  const code = (error as { code?: string })?.code;
  if (code && TLS_ERROR_CODES.test(code)) {
    return new Error(`Cannot call "${target}": TLS certificate refused: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (error instanceof DOMException || (error as Error)?.name === "AbortError") {
    return new TransientError(`Cannot call "${target}": no answer within ${timeoutMs} ms`, {
      cause: error,
    });
  }
  const detail = code === "ECONNREFUSED" ? "connection refused" : messageOf(error);
  return new TransientError(`Cannot call "${target}": ${detail}`, { cause: error });
}

/**
 * Creates the outbound client: refuses non-http(s) URLs, credentials in URLs and addresses that
 * are loopback, private, link-local, CGNAT, unspecified, multicast, metadata or otherwise special
 * (unless inside `allow`); follows at most `OUTBOUND_MAX_REDIRECTS` redirects, checking each; cuts
 * the answer at the size cap. Throws `OutboundBlockedError` for refusals and `TransientError` for
 * wire failures (timeout, refused connection, DNS); a refused TLS certificate is a plain `Error`.
 */
export function createOutboundFetch(options: OutboundFetchOptions): OutboundFetch {
  const allow = options.allow.map(parseCidr);
  const resolve = options.resolve ?? resolveWithDns;
  return async function outboundFetch(request: OutboundRequest): Promise<OutboundResponse> {
    const timeoutMs = request.timeoutMs ?? options.timeoutMs ?? OUTBOUND_TIMEOUT_MS;
    const limit = request.maxResponseBytes ?? options.maxResponseBytes ??
      OUTBOUND_MAX_RESPONSE_BYTES;
    let url: URL;
    try {
      url = new URL(request.url);
    } catch (cause) {
      throw new TypeError(`Cannot call "${redactUrl(request.url)}": not a valid URL`, { cause });
    }
    const signal = AbortSignal.timeout(timeoutMs);
    let hop: Omit<Hop, "address"> = {
      url,
      method: request.method.toUpperCase(),
      headers: { ...request.headers },
      body: request.method.toUpperCase() === "GET" ? undefined : request.body,
      allowSelfSigned: request.allowSelfSigned ?? false,
      signal,
    };
    for (let redirects = 0;; redirects++) {
      const address = await checkedAddress(hop.url, allow, resolve);
      let response: IncomingMessage;
      try {
        response = await sendHop({ ...hop, address });
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (REDIRECT_STATUSES.has(status) && location) {
          response.resume();
          if (redirects >= OUTBOUND_MAX_REDIRECTS) {
            throw new OutboundBlockedError(
              request.url,
              `more than ${OUTBOUND_MAX_REDIRECTS} redirects`,
            );
          }
          hop = redirectedHop({ ...hop, address }, status, new URL(location, hop.url));
          continue;
        }
        const { body, truncated } = await readCapped(response, limit);
        return { status, headers: toHeaders(response), body, truncated };
      } catch (error) {
        if (error instanceof OutboundBlockedError) throw error;
        throw wireError(hop.url, timeoutMs, signal.aborted ? signal.reason : error);
      }
    }
  };
}

/**
 * A service's API root: the injected one, else the environment variable `envName`, else the
 * service's public root; trailing slashes dropped so paths can be appended with `/`.
 */
export function apiRootOf(
  injected: string | undefined,
  options: { envName: string; fallback: string },
): string {
  return (injected ?? readEnv(options.envName) ?? options.fallback).replace(/\/+$/, "");
}

/** An environment variable, or undefined when unset or when env access is not granted. */
export function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}
