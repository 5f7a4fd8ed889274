/**
 * Parsing of admin API JSON bodies with one clear 400 on bad input.
 *
 * @module
 */

import { HTTPException } from "hono/http-exception";
import type { JsonObject } from "../../engine/model.ts";

/** Parses `text` as a JSON object, or throws a 400 saying what is wrong. */
export function parseJsonBody(text: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HTTPException(400, {
      message: `Request body is not JSON: ${(error as Error).message}`,
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HTTPException(400, { message: "Request body must be a JSON object" });
  }
  return value as JsonObject;
}
