/**
 * Chat authorisation: what each role may do, and the role a user holds in a chat. A user acts only
 * with a grant, and only in a chat allowed for commands (or a direct chat with the bot); nobody
 * is allowed by default.
 *
 * @module
 */

import {
  CHAT_ROLES,
  type ChatRole,
  type ChatVenue,
  getChatRole,
  getChatVenue,
} from "../store/chat_roles.ts";
import type { ChatIdentity } from "./core.ts";
import { DEFAULT_CHAT_MAX_TLP, type TlpLevel } from "../services/tlp.ts";

export type { ChatRole } from "../store/chat_roles.ts";

/** Where a user stands in a chat: the role that applies (null: none) and the chat's TLP ceiling. */
export interface ChatAccess {
  role: ChatRole | null;
  /** The most restricted TLP whose content this chat may see. */
  maxTlp: TlpLevel;
  venue: ChatVenue | null;
  /** Why the role is null, for the refusal message. */
  reason?: string;
}

/** True when `role` is at least `needed`. */
export function hasRole(role: ChatRole | null, needed: ChatRole): boolean {
  return role !== null && CHAT_ROLES.indexOf(role) >= CHAT_ROLES.indexOf(needed);
}

/** The role `identity` holds in its chat, and the chat's TLP ceiling. */
export async function resolveAccess(kv: Deno.Kv, identity: ChatIdentity): Promise<ChatAccess> {
  const [grant, venue] = await Promise.all([
    getChatRole(kv, identity.platform, identity.userId),
    getChatVenue(kv, identity.platform, identity.chatId),
  ]);
  const maxTlp = venue?.max_tlp ?? DEFAULT_CHAT_MAX_TLP;
  if (!grant) return { role: null, maxTlp, venue, reason: "you have no Flowgate role" };
  const chatAllowed = venue ? venue.commands : identity.direct && grant.chats === undefined;
  if (!chatAllowed) {
    return { role: null, maxTlp, venue, reason: "this chat is not allowed for Flowgate commands" };
  }
  if (grant.chats !== undefined && !grant.chats.includes(identity.chatId)) {
    return { role: null, maxTlp, venue, reason: "your role does not extend to this chat" };
  }
  return { role: grant.role, maxTlp, venue };
}
