/**
 * A Slack room where commands are allowed and three users hold the three roles: the setting the
 * command tests run in, with the chat core they call `runCommand` on.
 *
 * @module
 */

import type { ChatCore } from "../../bot/core.ts";
import { type ChatRole, putChatRole, putChatVenue } from "../../store/chat_roles.ts";
import type { TestApp } from "../server/test_app.ts";

/** The room's Slack channel id. */
export const ROOM = "C0ROOM";

/** The Slack user holding each role in the room. */
export const USERS: Readonly<Record<ChatRole, string>> = {
  viewer: "UV",
  responder: "UR",
  admin: "UA",
};

/** Grants the roles, opens the room to commands, and returns a chat core without senders. */
export async function openCommandRoom(test: TestApp): Promise<ChatCore> {
  for (const [role, user] of Object.entries(USERS)) {
    await putChatRole(test.kv, {
      platform: "slack",
      "user_id": user,
      role: role as ChatRole,
      "granted_by": "test",
      "granted_at": new Date().toISOString(),
    });
  }
  await putChatVenue(test.kv, {
    platform: "slack",
    "chat_id": ROOM,
    commands: true,
    announce: false,
    "max_tlp": "amber",
    "updated_by": "test",
    "updated_at": new Date().toISOString(),
  });
  return { ctx: test.ctx, senders: new Map(), watchedApprovals: new WeakSet() };
}
