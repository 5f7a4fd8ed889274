import assert from "node:assert/strict";
import { listAudit } from "../../store/audit.ts";
import { getChatRole, getChatVenue } from "../../store/chat_roles.ts";
import { startTestApp } from "./test_app.ts";

const JSON_HEADERS = { "Content-Type": "application/json" };

Deno.test("/api/chat/roles grants, lists and revokes chat roles, audited", async () => {
  await using test = await startTestApp();
  const put = await test.admin("/api/chat/roles", {
    method: "PUT",
    headers: JSON_HEADERS,
    body: JSON.stringify({
      platform: "telegram",
      "user_id": "42",
      role: "responder",
      chats: ["-100"],
    }),
  });
  assert.equal(put.status, 200);
  assert.equal((await getChatRole(test.kv, "telegram", "42"))?.role, "responder");
  const list = await (await test.admin("/api/chat/roles")).json();
  assert.deepEqual(list.items.map((grant: { user_id: string }) => grant.user_id), ["42"]);
  const removed = await test.admin("/api/chat/roles?platform=telegram&user_id=42", {
    method: "DELETE",
  });
  assert.equal(removed.status, 204);
  const again = await test.admin("/api/chat/roles?platform=telegram&user_id=42", {
    method: "DELETE",
  });
  assert.equal(again.status, 404);
  const actions = (await listAudit(test.kv)).items.map((entry) => entry.action);
  assert.deepEqual(actions, ["chat.role.revoke", "chat.role.grant"]);
});

Deno.test("/api/chat refuses bad bodies and unauthenticated callers", async (t) => {
  await using test = await startTestApp();
  const cases: [string, unknown][] = [
    ["unknown role", { platform: "slack", "user_id": "U1", role: "root" }],
    ["unknown platform", { platform: "irc", "user_id": "U1", role: "admin" }],
    ["extra field", { platform: "slack", "user_id": "U1", role: "admin", token: "x" }],
    ["bad id", { platform: "slack", "user_id": "U 1", role: "admin" }],
  ];
  for (const [name, body] of cases) {
    await t.step(name, async () => {
      const response = await test.admin("/api/chat/roles", {
        method: "PUT",
        headers: JSON_HEADERS,
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 400);
      assert.match((await response.json()).error, /Invalid request/);
    });
  }
  await t.step("no admin token", async () => {
    const response = await test.request("/api/chat/roles", {
      method: "PUT",
      headers: JSON_HEADERS,
      body: JSON.stringify({ platform: "slack", "user_id": "U1", role: "admin" }),
    });
    assert.equal(response.status, 401);
    assert.equal(await getChatRole(test.kv, "slack", "U1"), null);
  });
});

Deno.test("/api/chat/chats stores a chat with defaults and a TLP ceiling", async () => {
  await using test = await startTestApp();
  const response = await test.admin("/api/chat/chats", {
    method: "PUT",
    headers: JSON_HEADERS,
    body: JSON.stringify({ platform: "slack", "chat_id": "C1", announce: true, "max_tlp": "red" }),
  });
  assert.equal(response.status, 200);
  const venue = await getChatVenue(test.kv, "slack", "C1");
  assert.equal(venue?.commands, true);
  assert.equal(venue?.announce, true);
  assert.equal(venue?.max_tlp, "red");
  const bad = await test.admin("/api/chat/chats", {
    method: "PUT",
    headers: JSON_HEADERS,
    body: JSON.stringify({ platform: "slack", "chat_id": "C1", "max_tlp": "purple" }),
  });
  assert.equal(bad.status, 400);
  assert.equal(
    (await test.admin("/api/chat/chats?platform=slack&chat_id=C1", { method: "DELETE" })).status,
    204,
  );
  assert.equal(await getChatVenue(test.kv, "slack", "C1"), null);
});
