import assert from "node:assert/strict";
import { ensureAdminToken, verifyAdminToken } from "../../store/admin_token.ts";

Deno.test("ensureAdminToken() generates a token once and stores only its hash", async () => {
  using kv = await Deno.openKv(":memory:");
  assert.equal(await verifyAdminToken(kv, "anything"), false);
  const { token } = await ensureAdminToken(kv);
  assert.match(token!, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(await ensureAdminToken(kv), {});
  assert.equal(await verifyAdminToken(kv, token!), true);
  assert.equal(await verifyAdminToken(kv, token!.slice(0, -1)), false);
  assert.equal(await verifyAdminToken(kv, ""), false);
  const stored = await Array.fromAsync(kv.list({ prefix: [] }));
  assert.ok(!JSON.stringify(stored.map((entry) => entry.value)).includes(token!));
});

Deno.test("ensureAdminToken() with a configured token replaces the stored hash", async () => {
  using kv = await Deno.openKv(":memory:");
  const { token: generated } = await ensureAdminToken(kv);
  assert.deepEqual(await ensureAdminToken(kv, "configured-secret-token"), {});
  assert.equal(await verifyAdminToken(kv, "configured-secret-token"), true);
  assert.equal(await verifyAdminToken(kv, generated!), false);
  assert.deepEqual(await ensureAdminToken(kv), {}, "a stored hash is kept when unset later");
  assert.equal(await verifyAdminToken(kv, "configured-secret-token"), true);
});
