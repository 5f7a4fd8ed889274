/**
 * The data travelling through one walk (MISP's `WorkflowRoamingData`, reference §6.8.1): the
 * unfiltered data plus the filters that Filter modules enabled, applied lazily and cached.
 *
 * @module
 */

import type { JsonObject } from "./model.ts";
import type { RoamingView } from "./module.ts";
import { extract, insert } from "./hash_path.ts";
import { itemsMatchingCondition } from "./conditions.ts";
import { phpEmpty } from "./php_compare.ts";

/** One entry of `enabledFilters`, as `generic-filter-data` writes it. */
export interface RoamingFilter {
  selector: string;
  path: string;
  operator: string;
  value: unknown;
}

/**
 * The roaming data of a walk. `getData()` applies the enabled filters in key order and caches the
 * result until the next `setData`, so a 100,000-attribute event is filtered once per change, not
 * once per node.
 */
export class RoamingData implements RoamingView {
  #data: JsonObject;
  #view: JsonObject | null = null;

  /** Starts the walk with `data` (normalised, or a concurrent task's snapshot). */
  constructor(data: JsonObject) {
    this.#data = data;
  }

  /** The data with active filters applied; the same object until `setData` is called. */
  getData(): JsonObject {
    if (this.#view === null) this.#view = filterData(this.#data);
    return this.#view;
  }

  /** Replaces the unfiltered data and drops the cached view. */
  setData(data: JsonObject): void {
    this.#data = data;
    this.#view = null;
  }

  /** The data as last set, without filters applied. */
  getRawData(): JsonObject {
    return this.#data;
  }
}

/** The filters of `data.enabledFilters` in key order (an empty PHP array is `[]` in JSON). */
export function enabledFilters(data: JsonObject): [string, RoamingFilter][] {
  const filters = data.enabledFilters;
  if (phpEmpty(filters) || typeof filters !== "object" || filters === null) return [];
  return Object.entries(filters as Record<string, RoamingFilter>);
}

/** Applies every enabled filter of `data` in key order, each on the result of the previous one. */
export function filterData(data: JsonObject): JsonObject {
  let filtered = data;
  for (const [, filter] of enabledFilters(data)) filtered = applyFilter(filtered, filter);
  return filtered;
}

/**
 * MISP's `applyFilter`: keeps the items under `selector` (a trailing `.{n}` stripped) that match
 * the condition and writes the surviving list back at that path.
 */
export function applyFilter(data: JsonObject, filter: RoamingFilter): JsonObject {
  let selector = String(filter?.selector ?? "");
  if (selector.endsWith(".{n}")) selector = selector.slice(0, -4);
  const items = extract(data, selector);
  const kept = itemsMatchingCondition(items, filter?.value, filter?.operator, filter?.path);
  return insert(data, selector, kept) as JsonObject;
}
