/**
 * Keeps a run summary under KV's value limit whatever the run holds: oversized strings (event
 * info, error messages, names) and error lists are cut with a visible marker, so a run is never
 * refused for its size. The whole texts stay where size does not matter: the chunked input, and
 * the chunked `run_errors` record.
 *
 * @module
 */

import { jsonByteLength } from "./chunks.ts";
import { cutMarker, cutText } from "./cut_text.ts";
import {
  MAX_RUN_ERROR_CHARS,
  MAX_RUN_ERRORS,
  MAX_RUN_EVENT_INFO_CHARS,
  MAX_RUN_EVENT_KEY_CHARS,
  MAX_RUN_SUMMARY_BYTES,
  MAX_RUN_TEXT_CHARS,
} from "./keys.ts";
import type { RunEventSummary } from "./types.ts";

/** Where the marker of a cut error says the whole list is (`getRun` reads it back). */
export const WHOLE_ERRORS_WHERE = "the full run";
/** Where the marker of a cut event field says the whole text is. */
export const WHOLE_EVENT_WHERE = "the run's input";

/** Fields the store itself sets, bounded by construction: never cut. */
const STORE_FIELDS = new Set(["id", "input_hash", "expires_at"]);

/** Divisors of the caps, tried in order until the summary fits (non-ASCII text takes more bytes). */
const CAP_SCALES = [1, 8, 64];

/** The smallest cap any scale goes down to. */
const MIN_CAP_CHARS = 16;

/** What `fitRunSummary` answers. */
export interface FittedSummary<T> {
  summary: T;
  /** True when `errors` lost a message or part of one: the caller keeps the whole list. */
  errorsCut: boolean;
}

/**
 * A copy of `summary` whose every string and its error list are within the caps of
 * `store/keys.ts`, tightened further until its JSON takes at most `MAX_RUN_SUMMARY_BYTES`.
 *
 * @throws {RangeError} only if the summary still does not fit with every string at the smallest
 *   cap, which means it has fields the store does not know (a bug, not an input)
 */
export function fitRunSummary<T extends { errors: string[]; event?: RunEventSummary }>(
  summary: T,
): FittedSummary<T> {
  if (jsonByteLength(summary) <= MAX_RUN_SUMMARY_BYTES && withinCaps(summary)) {
    return { summary, errorsCut: false };
  }
  let bytes = 0;
  for (const scale of CAP_SCALES) {
    const fitted = capSummary(summary, scale);
    bytes = jsonByteLength(fitted.summary);
    if (bytes <= MAX_RUN_SUMMARY_BYTES) return fitted;
  }
  throw new RangeError(
    `Cannot fit the summary of run "${String((summary as { id?: unknown }).id)}": ` +
      `${bytes} bytes with every field at its smallest cap, over the ${MAX_RUN_SUMMARY_BYTES}-byte limit`,
  );
}

/** True when no field is over its cap at scale 1 (the common case costs no copy). */
function withinCaps(summary: { errors: string[]; event?: RunEventSummary }): boolean {
  if (summary.errors.length > MAX_RUN_ERRORS) return false;
  if (summary.errors.some((error) => error.length > MAX_RUN_ERROR_CHARS)) return false;
  const event = summary.event;
  if (event) {
    if ((event.info?.length ?? 0) > MAX_RUN_EVENT_INFO_CHARS) return false;
    for (const key of ["uuid", "id", "timestamp"] as const) {
      if ((event[key]?.length ?? 0) > MAX_RUN_EVENT_KEY_CHARS) return false;
    }
  }
  return Object.entries(summary).every(([key, value]) =>
    key === "errors" || key === "event" || STORE_FIELDS.has(key) ||
    !hasLongString(value, MAX_RUN_TEXT_CHARS)
  );
}

function hasLongString(value: unknown, max: number): boolean {
  if (typeof value === "string") return value.length > max;
  if (Array.isArray(value)) return value.some((item) => hasLongString(item, max));
  if (typeof value === "object" && value !== null) {
    return Object.values(value).some((item) => hasLongString(item, max));
  }
  return false;
}

function capSummary<T extends { errors: string[]; event?: RunEventSummary }>(
  summary: T,
  scale: number,
): FittedSummary<T> {
  const cap = (chars: number) => Math.max(MIN_CAP_CHARS, Math.floor(chars / scale));
  const textCap = cap(MAX_RUN_TEXT_CHARS);
  const fitted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(summary)) {
    fitted[key] = STORE_FIELDS.has(key) ? value : capStrings(value, textCap);
  }
  const maxErrors = Math.max(1, Math.floor(MAX_RUN_ERRORS / scale));
  const errorCap = cap(MAX_RUN_ERROR_CHARS);
  const errors = summary.errors.slice(0, maxErrors).map((error) =>
    cutText(String(error), errorCap, { where: WHOLE_ERRORS_WHERE })
  );
  const left = summary.errors.length - maxErrors;
  if (left > 0) errors.push(cutMarker(left, { unit: "errors", where: WHOLE_ERRORS_WHERE }));
  fitted.errors = errors;
  const errorsCut = left > 0 || errors.some((error, i) => error !== summary.errors[i]);
  if (summary.event) {
    const event: RunEventSummary = {};
    for (const [key, value] of Object.entries(summary.event)) {
      if (typeof value !== "string") continue;
      const max = key === "info" ? MAX_RUN_EVENT_INFO_CHARS : MAX_RUN_EVENT_KEY_CHARS;
      event[key as keyof RunEventSummary] = cutText(value, cap(max), { where: WHOLE_EVENT_WHERE });
    }
    fitted.event = event;
  }
  return { summary: fitted as T, errorsCut };
}

/** `value` with every string in it cut to `max` characters. */
function capStrings(value: unknown, max: number): unknown {
  if (typeof value === "string") return cutText(value, max);
  if (Array.isArray(value)) return value.map((item) => capStrings(item, max));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, capStrings(item, max)]),
    );
  }
  return value;
}
