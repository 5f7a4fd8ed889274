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

Deno.test("ensureAdminToken() with a configured token replaces the stored hash and says so", async () => {
  using kv = await Deno.openKv(":memory:");
  const { token: generated } = await ensureAdminToken(kv);
  const first = await ensureAdminToken(kv, "configured-secret-token");
  assert.equal(first.token, undefined);
  assert.equal(first.replaced?.source, "generated", "it names the token it replaced");
  assert.match(first.replaced?.created_at ?? "", /^\d{4}-\d\d-\d\dT/);
  assert.equal(await verifyAdminToken(kv, "configured-secret-token"), true);
  assert.equal(await verifyAdminToken(kv, generated!), false);
  assert.deepEqual(await ensureAdminToken(kv, "configured-secret-token"), {}, "same token: quiet");
  assert.equal(
    (await ensureAdminToken(kv, "another-secret-token-0")).replaced?.source,
    "configured",
  );
  assert.deepEqual(await ensureAdminToken(kv), {}, "a stored hash is kept when unset later");
  assert.equal(await verifyAdminToken(kv, "another-secret-token-0"), true);
});

Deno.test("ensureAdminToken() with a configured token on a fresh KV replaces nothing", async () => {
  using kv = await Deno.openKv(":memory:");
  assert.deepEqual(await ensureAdminToken(kv, "configured-secret-token"), {});
});
