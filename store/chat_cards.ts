/**
 * Where each blocked-run card was posted (per platform and chat) and what happened to it since,
 * so every copy can be edited in place after someone acts on it.
 *
 * @module
 */

import { DAY_MS } from "./keys.ts";
import type { ChatPlatform } from "./chat_roles.ts";

/** Cards: `["chat_cards", runId]` → `ChatCardRecord`. */
export const KEY_CHAT_CARDS = "chat_cards";
/** How long a card stays editable: as long as the audit trail of a decision matters. */
export const CHAT_CARD_RETENTION_MS = 30 * DAY_MS;
/** Attempts of a card update before giving up on concurrent writers. */
const MAX_CARD_WRITE_ATTEMPTS = 5;

/** One posted copy of a card. */
export interface ChatMessageRef {
  platform: ChatPlatform;
  "chat_id": string;
  /** Slack message `ts` or Telegram `message_id`, as a string. */
  "message_id": string;
}

/** Something done with a card: who, what, when, and the outcome in one line. */
export interface ChatCardEvent {
  /** `replay`, `approve`, `deny`… */
  action: string;
  /** `slack:U123`, `telegram:456`. */
  by: string;
  at: string;
  /** One line shown on the card, e.g. "dry replay: run 01J… blocked". */
  summary: string;
  /** True for a final decision: the card loses its buttons. */
  final: boolean;
}

/** A card and its copies. */
export interface ChatCardRecord {
  "run_id": string;
  messages: ChatMessageRef[];
  events: ChatCardEvent[];
}

/** The card of a run, or null when none was posted. */
export async function getChatCard(kv: Deno.Kv, runId: string): Promise<ChatCardRecord | null> {
  return (await kv.get<ChatCardRecord>([KEY_CHAT_CARDS, runId])).value;
}

/** Adds posted copies to a run's card (creating it). */
export function addChatCardMessages(
  kv: Deno.Kv,
  runId: string,
  messages: ChatMessageRef[],
): Promise<ChatCardRecord> {
  return updateCard(kv, runId, (card) => ({ ...card, messages: [...card.messages, ...messages] }));
}

/**
 * Appends an event to a run's card. A final event is refused (null) when the card already has
 * one, so a decision is recorded once however many people press at the same time.
 */
export async function addChatCardEvent(
  kv: Deno.Kv,
  runId: string,
  event: ChatCardEvent,
): Promise<ChatCardRecord | null> {
  let refused = false;
  const card = await updateCard(kv, runId, (current) => {
    if (event.final && current.events.some((previous) => previous.final)) {
      refused = true;
      return null;
    }
    return { ...current, events: [...current.events, event] };
  });
  return refused ? null : card;
}

async function updateCard(
  kv: Deno.Kv,
  runId: string,
  change: (card: ChatCardRecord) => ChatCardRecord | null,
): Promise<ChatCardRecord> {
  const key = [KEY_CHAT_CARDS, runId];
  for (let attempt = 0; attempt < MAX_CARD_WRITE_ATTEMPTS; attempt++) {
    const entry = await kv.get<ChatCardRecord>(key);
    const current = entry.value ?? { "run_id": runId, messages: [], events: [] };
    const next = change(current);
    if (next === null) return current;
    const result = await kv.atomic().check(entry).set(key, next, {
      expireIn: CHAT_CARD_RETENTION_MS,
    }).commit();
    if (result.ok) return next;
  }
  throw new Error(
    `Cannot update the chat card of run "${runId}": it kept changing concurrently ` +
      `(${MAX_CARD_WRITE_ATTEMPTS} attempts)`,
  );
}
