/**
 * Chunked JSON values: big inputs, traces and payloads are stored as JSON bytes split under the
 * 64 KiB value limit, addressed by a SHA-256 where they are shared.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { CHUNK_BYTES } from "./keys.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The UTF-8 JSON of `value` (`null` for `undefined`), the form every chunked value is stored in. */
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value) ?? "null");
}

/** Parses UTF-8 JSON bytes back to a value. */
export function decodeJson(bytes: Uint8Array): unknown {
  return JSON.parse(decoder.decode(bytes));
}

/** The UTF-8 length of `value`'s JSON: a close estimate of its stored size in KV. */
export function jsonByteLength(value: unknown): number {
  return encoder.encode(JSON.stringify(value) ?? "null").length;
}

/** Splits bytes into views of at most `CHUNK_BYTES` each (one empty chunk for empty input). */
export function splitChunks(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length === 0) return [bytes];
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
    chunks.push(bytes.subarray(offset, offset + CHUNK_BYTES));
  }
  return chunks;
}

/** Concatenates chunks back into one byte array. */
export function joinChunks(chunks: Uint8Array[]): Uint8Array {
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/**
 * The lowercase hex SHA-256 of `bytes`. `node:crypto` hashes in place on the calling thread:
 * measured 0.25 ms for 0.44 MB against 0.4 ms for `crypto.subtle.digest`, which copies the bytes
 * and hops to a worker thread.
 */
export function sha256Hex(bytes: Uint8Array): Promise<string> {
  return Promise.resolve(createHash("sha256").update(bytes).digest("hex"));
}

/**
 * The lowercase hex SHA-256 of `bytes`, computed off the JavaScript thread (`crypto.subtle`
 * hashes a copy on a worker thread). Slower for one value than `sha256Hex`, but the calling
 * thread only pays the copy (measured 0.3 ms against 1.3 ms for 2 MiB): the verdict path starts
 * it as soon as a request's bytes are in and parses meanwhile on the other core.
 */
export async function sha256HexOffThread(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (const byte of digest) hex += HEX_BYTES[byte]!;
  return hex;
}

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

/**
 * Reads the `count` chunks stored under `prefix` (keys `[...prefix, 0..count-1]`) and joins them;
 * null when any chunk is missing, which means the value expired or was never completely written.
 */
export async function readChunks(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  count: number,
): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  const entries = kv.list<Uint8Array>({ prefix }, {
    limit: count,
    batchSize: Math.min(Math.max(count, 1), 500),
  });
  for await (const entry of entries) {
    if (entry.key.at(-1) !== chunks.length || !(entry.value instanceof Uint8Array)) return null;
    chunks.push(entry.value);
  }
  return chunks.length === count ? joinChunks(chunks) : null;
}
