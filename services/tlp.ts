/**
 * TLP and PAP of what a run looked at, and whether a chat may see it: a chat has a maximum TLP
 * (default `amber`) and content above it is replaced by a reference to the API.
 *
 * @module
 */

import type { TlpLevel } from "../store/chat_roles.ts";

export type { TlpLevel } from "../store/chat_roles.ts";

/** TLP levels, least restricted first. */
export const TLP_LEVELS: readonly TlpLevel[] = ["clear", "green", "amber", "amber+strict", "red"];
/** The maximum TLP of a chat that does not say otherwise. */
export const DEFAULT_CHAT_MAX_TLP: TlpLevel = "amber";
/**
 * TLP assumed for content that carries no TLP tag: amber, so an unmarked event reaches the
 * default chats but not a chat restricted to green or clear.
 */
export const UNMARKED_TLP: TlpLevel = "amber";
/** How deep `classifyData` looks for tags; MISP events nest Object → Attribute → Tag. */
const MAX_TAG_DEPTH = 8;

/** The TLP and PAP tags found in a payload; undefined when it has none. */
export interface Marking {
  tlp?: TlpLevel;
  /** `RED`, `AMBER`, `GREEN`, `CLEAR` (the strongest found). */
  pap?: string;
}

const PAP_LEVELS = ["CLEAR", "GREEN", "AMBER", "RED"];

/** Reads `tlp:red`, `TLP:AMBER+STRICT`, `white`… as a level; undefined when not a TLP. */
export function parseTlp(text: string): TlpLevel | undefined {
  const value = text.trim().toLowerCase().replace(/^tlp:/, "").replace(/^"|"$/g, "");
  if (value === "white") return "clear";
  return (TLP_LEVELS as readonly string[]).includes(value) ? value as TlpLevel : undefined;
}

/** The more restricted of two levels. */
export function maxTlp(a: TlpLevel, b: TlpLevel): TlpLevel {
  return TLP_LEVELS.indexOf(a) >= TLP_LEVELS.indexOf(b) ? a : b;
}

/** True when content marked `content` (unmarked: `UNMARKED_TLP`) may be shown in a chat cleared for `chatMax`. */
export function isCleared(content: TlpLevel | undefined, chatMax: TlpLevel): boolean {
  return TLP_LEVELS.indexOf(content ?? UNMARKED_TLP) <= TLP_LEVELS.indexOf(chatMax);
}

/**
 * The strongest TLP and PAP tags anywhere in a MISP payload: event tags, attribute and object
 * attribute tags, `EventTag` wrappers, in MISP's core format or the flattened one.
 */
export function classifyData(data: unknown): Marking {
  const marking: Marking = {};
  const visit = (value: unknown, depth: number, underTag: boolean): void => {
    if (depth > MAX_TAG_DEPTH || value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1, underTag);
      return;
    }
    const record = value as Record<string, unknown>;
    if (underTag && typeof record.name === "string") noteTag(marking, record.name);
    for (const [key, child] of Object.entries(record)) {
      if (typeof child === "object") visit(child, depth + 1, key === "Tag" || key === "Tags");
    }
  };
  visit(data, 0, false);
  return marking;
}

function noteTag(marking: Marking, name: string): void {
  const lower = name.trim().toLowerCase();
  if (lower.startsWith("tlp:")) {
    const level = parseTlp(lower);
    if (level) marking.tlp = marking.tlp ? maxTlp(marking.tlp, level) : level;
  } else if (lower.startsWith("pap:")) {
    const raw = lower.slice(4).toUpperCase();
    const level = raw === "WHITE" ? "CLEAR" : raw;
    if (!PAP_LEVELS.includes(level)) return;
    if (!marking.pap || PAP_LEVELS.indexOf(level) > PAP_LEVELS.indexOf(marking.pap)) {
      marking.pap = level;
    }
  }
}

/** The line that stands in for withheld content: where to read it instead. */
export function withheldNotice(tlp: TlpLevel | undefined, runId: string): string {
  return `[TLP:${(tlp ?? UNMARKED_TLP).toUpperCase()} content withheld from this chat: ` +
    `see GET /api/runs/${runId}]`;
}
