/**
 * Decodes what PHP's `http_build_query` produces (MISP's Webhook module with content type
 * `form`): nested keys `Event[Attribute][0][value]=x` become nested objects, and objects whose
 * keys are exactly 0..n-1 become arrays again.
 *
 * @module
 */

import type { JsonObject } from "../engine/model.ts";

/** Parses a PHP-style form body into a JSON object. */
export function parsePhpForm(body: string): JsonObject {
  const root: JsonObject = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const path = splitKey(rawKey);
    let node: JsonObject = root;
    for (let i = 0; i < path.length - 1; i++) {
      const part = path[i]!;
      const next = node[part];
      if (typeof next !== "object" || next === null) node[part] = {};
      node = node[part] as JsonObject;
    }
    const last = path[path.length - 1]!;
    node[last === "" ? String(Object.keys(node).length) : last] = value;
  }
  return toArrays(root) as JsonObject;
}

function splitKey(key: string): string[] {
  const open = key.indexOf("[");
  if (open <= 0 || !key.endsWith("]")) return [key];
  const parts = [key.slice(0, open)];
  for (const match of key.slice(open).matchAll(/\[([^\]]*)\]/g)) parts.push(match[1]!);
  return parts;
}

function toArrays(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const object = value as JsonObject;
  const keys = Object.keys(object);
  for (const key of keys) object[key] = toArrays(object[key]);
  const isList = keys.length > 0 && keys.every((key, index) => key === String(index));
  return isList ? keys.map((key) => object[key]) : object;
}
