import assert from "node:assert/strict";
import {
  bootstrapChatAdmins,
  deleteChatRole,
  getChatRole,
  listChatRoles,
  putChatRole,
} from "../../store/chat_roles.ts";

Deno.test("bootstrapChatAdmins() keeps FLOWGATE_CHAT_ADMINS the source of truth for its grants", async () => {
  using kv = await Deno.openKv(":memory:");
  assert.deepEqual(await bootstrapChatAdmins(kv, ["slack:U1", "telegram:42"]), {
    granted: ["slack:U1", "telegram:42"],
    revoked: [],
  });
  await putChatRole(kv, {
    platform: "slack",
    "user_id": "U9",
    role: "responder",
    "granted_by": "api:admin",
    "granted_at": new Date().toISOString(),
  });
  assert.deepEqual(await bootstrapChatAdmins(kv, ["telegram:42"]), {
    granted: [],
    revoked: ["slack:U1"],
  });
  assert.equal(await getChatRole(kv, "slack", "U1"), null);
  assert.equal((await getChatRole(kv, "slack", "U9"))?.role, "responder");
  assert.deepEqual((await bootstrapChatAdmins(kv, [])).revoked, ["telegram:42"]);
  assert.deepEqual((await listChatRoles(kv)).map((grant) => grant.user_id), ["U9"]);
  assert.equal(await deleteChatRole(kv, "slack", "U9"), true);
  assert.equal(await deleteChatRole(kv, "slack", "U9"), false);
  await assert.rejects(bootstrapChatAdmins(kv, ["matrix:x"]), RangeError);
});
