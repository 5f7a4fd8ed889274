/**
 * `getMany` over any number of keys. Deno KV reads at most `MAX_GET_MANY_KEYS` keys per call
 * ("Too many ranges (max 10)" in Deno 2.9.6), so the keys go in slices of that size, all sent at
 * once: the store serves them one after the other anyway, and nobody waits between them.
 *
 * @module
 */

import { MAX_GET_MANY_KEYS } from "./keys.ts";

/** The entries of `keys`, in their order, read in parallel slices of `MAX_GET_MANY_KEYS`. */
export async function getManySliced<T>(
  kv: Deno.Kv,
  keys: readonly Deno.KvKey[],
): Promise<Deno.KvEntryMaybe<T>[]> {
  const slices: Deno.KvKey[][] = [];
  for (let i = 0; i < keys.length; i += MAX_GET_MANY_KEYS) {
    slices.push(keys.slice(i, i + MAX_GET_MANY_KEYS));
  }
  const read = await Promise.all(slices.map((slice) => kv.getMany<T[]>(slice)));
  return read.flat();
}
