/**
 * `?limit=&cursor=` query parameters of the admin API's lists.
 *
 * @module
 */

import { HTTPException } from "hono/http-exception";
import { parseCursor } from "./params.ts";

/** The paging options of a list request; 400 on a bad limit or cursor. */
export function pageOptions(query: Record<string, string>): { limit?: number; cursor?: string } {
  const options: { limit?: number; cursor?: string } = {};
  if (query.limit !== undefined) {
    const limit = Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1) {
      throw new HTTPException(400, { message: `Invalid limit "${query.limit}"` });
    }
    options.limit = limit;
  }
  const cursor = parseCursor(query.cursor);
  if (cursor !== undefined) options.cursor = cursor;
  return options;
}
