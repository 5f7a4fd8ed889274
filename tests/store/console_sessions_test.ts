import assert from "node:assert/strict";
import {
  deleteConsoleSession,
  getConsoleSession,
  KEY_CONSOLE_SESSIONS,
  saveConsoleSession,
} from "../../store/console_sessions.ts";

Deno.test("console sessions are stored under a hash, expire on read and can be deleted", async () => {
  using kv = await Deno.openKv(":memory:");
  const session = {
    csrf: "csrf-token",
    "created_at": "2026-11-28T10:00:00.000Z",
    "expires_at": "2026-11-28T18:00:00.000Z",
  };
  await saveConsoleSession(kv, "cookie-id", session, 60_000);
  const keys = [];
  for await (const entry of kv.list({ prefix: [KEY_CONSOLE_SESSIONS] })) keys.push(entry.key);
  assert.equal(keys.length, 1);
  assert.ok(!String(keys[0]).includes("cookie-id"));
  assert.deepEqual(
    await getConsoleSession(kv, "cookie-id", Date.parse("2026-11-28T12:00:00Z")),
    session,
  );
  assert.equal(await getConsoleSession(kv, "cookie-id", Date.parse("2026-11-28T18:00:01Z")), null);
  assert.equal(await getConsoleSession(kv, "other-id", Date.parse("2026-11-28T12:00:00Z")), null);
  await deleteConsoleSession(kv, "cookie-id");
  assert.equal(await getConsoleSession(kv, "cookie-id", Date.parse("2026-11-28T12:00:00Z")), null);
});
