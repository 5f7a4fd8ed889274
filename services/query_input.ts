/**
 * The run input of a `/query` call: MISP's `data`, with the node context a caller sent beside it.
 *
 * @module
 */

import type { JsonObject } from "../engine/model.ts";

/** The members of a `/query` body beside `data` that the run input keeps. */
export interface QueryNodeContext {
  filteredItems?: unknown;
  matchingData?: unknown;
}

/**
 * MISP sends `filteredItems` (node filters applied) and `matchingData` (hash-path params) only for
 * modules that declare them; Flowgate's do not, but when a caller sends them anyway they are kept
 * as the top-level `_filteredItems` / `_matchingData` keys of the run input, which the core-format
 * conversion carries over, so a workflow can read them with hash paths. `data` itself is returned
 * when there is neither.
 */
export function withNodeContext(data: JsonObject, body: QueryNodeContext): JsonObject {
  if (body.filteredItems === undefined && body.matchingData === undefined) return data;
  const input: JsonObject = { ...data };
  if (body.filteredItems !== undefined) input._filteredItems = body.filteredItems;
  if (body.matchingData !== undefined) input._matchingData = body.matchingData;
  return input;
}
