/**
 * What the transport-agnostic chat code shares: who is speaking and where, the per-platform
 * senders the announcements use, and the audit trail of every chat action.
 *
 * @module
 */

import type { JsonObject } from "../engine/model.ts";
import { appendAudit } from "../store/audit.ts";
import type { ChatPlatform } from "../store/chat_roles.ts";
import type { AppContext } from "../services/context.ts";
import type { Card } from "./cards.ts";

/** A platform user in a chat. */
export interface ChatIdentity {
  platform: ChatPlatform;
  /** Slack user id (`U123`) or Telegram `from.id`. */
  userId: string;
  /** Slack channel id or Telegram `chat.id`. */
  chatId: string;
  /** A direct conversation with the bot (Slack DM, Telegram private chat). */
  direct: boolean;
}

/** Posts and edits cards on one platform. */
export interface ChatSender {
  platform: ChatPlatform;
  /** Posts a card; resolves with the message id (Slack `ts`, Telegram `message_id`). */
  postCard(chatId: string, card: Card): Promise<string>;
  /** Replaces a posted card (buttons included) with `card`. */
  editCard(chatId: string, messageId: string, card: Card): Promise<void>;
}

/** The part of the app context the chat uses: the store, configuration, services and clock. */
export type ChatContext = Pick<
  AppContext,
  "kv" | "config" | "services" | "approvals" | "now" | "metrics" | "modules" | "triggers"
>;

/** Pauses between reconnections of Socket Mode and long polling: the first, doubled up to `max`. */
export interface RetryPauses {
  first: number;
  max: number;
}

/** The chat core: the app context's chat part plus the senders the transports registered. */
export interface ChatCore {
  ctx: ChatContext;
  senders: Map<ChatPlatform, ChatSender>;
  /** Approval services whose changes already reach the cards (see `watchApprovals`). */
  watchedApprovals: WeakSet<object>;
  /**
   * Where the connections Flowgate opens itself stand (Slack Socket Mode: `connected`,
   * `retrying`…; Telegram long polling: `polling`, `failed`…), by platform; webhooks have none.
   */
  connectionStates?: () => Partial<Record<ChatPlatform, string>>;
}

/** The actor string of the audit log and the stores: `slack:U123`. */
export function actorOf(identity: ChatIdentity): string {
  return `${identity.platform}:${identity.userId}`;
}

/** Writes one chat action to the audit log with the platform, user and chat. */
export async function auditChat(
  core: ChatCore,
  identity: ChatIdentity,
  entry: { action: string; target?: string; details?: JsonObject },
): Promise<void> {
  await appendAudit(core.ctx.kv, {
    actor: `${actorOf(identity)}@${identity.chatId}`,
    action: entry.action,
    ...(entry.target === undefined ? {} : { target: entry.target }),
    details: {
      platform: identity.platform,
      user: identity.userId,
      chat: identity.chatId,
      ...entry.details,
    },
  }, { now: new Date(core.ctx.now()) });
}
