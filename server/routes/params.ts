/**
 * Checks of the ids, filters and cursors the admin API puts into KV keys: KV refuses keys over
 * 2 KiB and cursors it did not issue, which would otherwise surface as a 500.
 *
 * @module
 */

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";

/** Longest id (workflow id or name, run, approval or dead-letter id) in a path, in UTF-8 bytes. */
export const MAX_ID_BYTES = 512;
/** Longest filter value (`?workflow=`, `?trigger=`, `?event=`…), in UTF-8 bytes. */
export const MAX_FILTER_BYTES = 512;
/**
 * Longest cursor accepted, in characters. KV's cursors are base64url key suffixes after the listed
 * prefix: a run or audit id, tens of characters; a cursor near KV's 2 KiB key limit is forged.
 */
export const MAX_CURSOR_CHARS = 1_024;

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * The path parameter `name` of `c`, checked for use in a KV key.
 *
 * @param what what the id names, for the message ("workflow", "run"…)
 * @throws {HTTPException} 400 when too long or holding control characters
 */
export function pathId(c: Context, what: string, name = "id"): string {
  const id = c.req.param(name) ?? "";
  checkKeyPart(id, `${what} id`, MAX_ID_BYTES);
  return id;
}

/**
 * A query filter checked for use in a KV key, or undefined when absent or empty.
 *
 * @throws {HTTPException} 400 when too long or holding control characters
 */
export function queryFilter(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === "") return undefined;
  checkKeyPart(value, `"${name}" filter`, MAX_FILTER_BYTES);
  return value;
}

/**
 * A `?cursor=` as the previous page returned it (base64url, at most `MAX_CURSOR_CHARS`), or
 * undefined when absent or empty.
 *
 * @throws {HTTPException} 400 "Invalid cursor" otherwise
 */
export function parseCursor(value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (value.length > MAX_CURSOR_CHARS || !BASE64URL.test(value)) {
    throw new HTTPException(400, {
      message: 'Invalid cursor: pass the "cursor" of the previous page unchanged',
    });
  }
  return value;
}

function checkKeyPart(value: string, label: string, maxBytes: number): void {
  const bytes = new TextEncoder().encode(value).byteLength;
  if (bytes > maxBytes) {
    throw new HTTPException(400, {
      message: `Invalid ${label}: ${bytes} bytes, the limit is ${maxBytes}`,
    });
  }
  if (hasControlCharacter(value)) {
    throw new HTTPException(400, {
      message: `Invalid ${label}: control characters are not allowed`,
    });
  }
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
