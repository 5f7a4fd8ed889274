/**
 * Who may use the chat bots, and where: role grants to Slack and Telegram user ids, and the chats
 * (venues) where commands run and announcements go, each with its maximum TLP.
 *
 * @module
 */

/** Chat grants: `["chat_roles", platform, userId]` → `ChatRoleGrant`. */
export const KEY_CHAT_ROLES = "chat_roles";
/** Chats the bots serve: `["chat_venues", platform, chatId]` → `ChatVenue`. */
export const KEY_CHAT_VENUES = "chat_venues";

/** The chat platforms Flowgate speaks. */
export type ChatPlatform = "slack" | "telegram";

/** Chat roles, weakest first: see runs < act on blocked runs < change workflows and grants. */
export type ChatRole = "viewer" | "responder" | "admin";

/** Every role, weakest first. */
export const CHAT_ROLES: readonly ChatRole[] = ["viewer", "responder", "admin"];

/** Traffic Light Protocol levels, least restricted first (`white` is read as `clear`). */
export type TlpLevel = "clear" | "green" | "amber" | "amber+strict" | "red";

/** A role granted to one platform user. */
export interface ChatRoleGrant {
  platform: ChatPlatform;
  "user_id": string;
  role: ChatRole;
  /** When set, the role holds only in these chat ids; otherwise in every allowed chat. */
  chats?: string[];
  "granted_by": string;
  "granted_at": string;
  /** Set for grants that come from `FLOWGATE_CHAT_ADMINS`; start-up keeps them in sync. */
  bootstrap?: boolean;
}

/** A chat (Slack channel, Telegram group) the bots serve. */
export interface ChatVenue {
  platform: ChatPlatform;
  "chat_id": string;
  /** Commands and buttons are accepted here. */
  commands: boolean;
  /** Blocked-run cards are posted here. */
  announce: boolean;
  /** Workflow ids or names whose blocks are announced here; absent or empty means all. */
  workflows?: string[];
  /** The most restricted TLP whose content may be shown here (default `amber`). */
  "max_tlp": TlpLevel;
  "updated_by": string;
  "updated_at": string;
}

/** Saves (creates or replaces) a role grant. */
export async function putChatRole(kv: Deno.Kv, grant: ChatRoleGrant): Promise<void> {
  await kv.set([KEY_CHAT_ROLES, grant.platform, grant.user_id], grant);
}

/** The grant of one platform user, or null. */
export async function getChatRole(
  kv: Deno.Kv,
  platform: ChatPlatform,
  userId: string,
): Promise<ChatRoleGrant | null> {
  return (await kv.get<ChatRoleGrant>([KEY_CHAT_ROLES, platform, userId])).value;
}

/** Every grant, by platform then user id. */
export async function listChatRoles(kv: Deno.Kv): Promise<ChatRoleGrant[]> {
  const grants: ChatRoleGrant[] = [];
  for await (const entry of kv.list<ChatRoleGrant>({ prefix: [KEY_CHAT_ROLES] })) {
    grants.push(entry.value);
  }
  return grants;
}

/** Removes a grant; false when there was none. */
export async function deleteChatRole(
  kv: Deno.Kv,
  platform: ChatPlatform,
  userId: string,
): Promise<boolean> {
  const key = [KEY_CHAT_ROLES, platform, userId];
  const entry = await kv.get(key);
  if (entry.versionstamp === null) return false;
  await kv.atomic().check(entry).delete(key).commit();
  return true;
}

/** Saves (creates or replaces) a chat venue. */
export async function putChatVenue(kv: Deno.Kv, venue: ChatVenue): Promise<void> {
  await kv.set([KEY_CHAT_VENUES, venue.platform, venue.chat_id], venue);
}

/** One chat venue, or null when the chat is not known. */
export async function getChatVenue(
  kv: Deno.Kv,
  platform: ChatPlatform,
  chatId: string,
): Promise<ChatVenue | null> {
  return (await kv.get<ChatVenue>([KEY_CHAT_VENUES, platform, chatId])).value;
}

/** Every venue, or those of one platform. */
export async function listChatVenues(
  kv: Deno.Kv,
  platform?: ChatPlatform,
): Promise<ChatVenue[]> {
  const venues: ChatVenue[] = [];
  const prefix = platform ? [KEY_CHAT_VENUES, platform] : [KEY_CHAT_VENUES];
  for await (const entry of kv.list<ChatVenue>({ prefix })) venues.push(entry.value);
  return venues;
}

/** Removes a venue; false when there was none. */
export async function deleteChatVenue(
  kv: Deno.Kv,
  platform: ChatPlatform,
  chatId: string,
): Promise<boolean> {
  const key = [KEY_CHAT_VENUES, platform, chatId];
  const entry = await kv.get(key);
  if (entry.versionstamp === null) return false;
  await kv.atomic().check(entry).delete(key).commit();
  return true;
}

/**
 * Makes the identities of `FLOWGATE_CHAT_ADMINS` (`slack:U123`, `telegram:456`) admins and drops
 * the bootstrap grants no longer listed, so the variable stays the source of truth for them.
 * Grants made through the API are left alone.
 *
 * @returns the identities granted now and those revoked
 */
export async function bootstrapChatAdmins(
  kv: Deno.Kv,
  identities: string[],
  options: { now?: Date } = {},
): Promise<{ granted: string[]; revoked: string[] }> {
  const wanted = new Map<string, { platform: ChatPlatform; userId: string }>();
  for (const identity of identities) {
    const match = /^(slack|telegram):(\S+)$/.exec(identity.trim());
    if (!match) {
      throw new RangeError(
        `Cannot bootstrap chat admin "${identity}": expected "slack:<id>" or "telegram:<id>"`,
      );
    }
    wanted.set(`${match[1]}:${match[2]}`, {
      platform: match[1] as ChatPlatform,
      userId: match[2]!,
    });
  }
  const granted: string[] = [];
  const revoked: string[] = [];
  for (const grant of await listChatRoles(kv)) {
    const identity = `${grant.platform}:${grant.user_id}`;
    if (grant.bootstrap && !wanted.has(identity)) {
      await deleteChatRole(kv, grant.platform, grant.user_id);
      revoked.push(identity);
    }
  }
  const at = (options.now ?? new Date()).toISOString();
  for (const [identity, { platform, userId }] of wanted) {
    const current = await getChatRole(kv, platform, userId);
    if (current?.role === "admin" && current.chats === undefined) continue;
    await putChatRole(kv, {
      platform,
      "user_id": userId,
      role: "admin",
      "granted_by": "env:FLOWGATE_CHAT_ADMINS",
      "granted_at": at,
      bootstrap: true,
    });
    granted.push(identity);
  }
  return { granted, revoked };
}
