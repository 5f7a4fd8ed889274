/**
 * MISP's distribution levels as the distribution operations offer them (reference §2.2).
 *
 * @module
 */

import type { ParamOptions } from "../../../engine/model.ts";

/** Distribution 0–4, as `{name, value}` options. */
export const DISTRIBUTION_OPTIONS: { name: string; value: string }[] = [
  { name: "Your organisation only", value: "0" },
  { name: "This community only", value: "1" },
  { name: "Connected communities", value: "2" },
  { name: "All communities", value: "3" },
  { name: "Sharing group", value: "4" },
];

/** Attributes may also inherit the event's distribution (5). */
export const ATTRIBUTE_DISTRIBUTION_OPTIONS: ParamOptions = [
  ...DISTRIBUTION_OPTIONS,
  { name: "Inherit event", value: "5" },
];

/** The sharing group id of a picker value (a string, a number or a one-element list). */
export function sharingGroupId(value: unknown): string {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === null ? "" : String(first);
}
