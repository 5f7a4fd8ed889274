import assert from "node:assert/strict";
import { createApp } from "../../server/app.ts";
import { createAppContext } from "../../services/context.ts";
import {
  SIGN_IN_ATTEMPTS,
  SIGN_IN_WINDOW_MS,
  SlidingWindowLimiter,
} from "../../server/rate_limit.ts";
import { ADMIN_TOKEN, startTestApp } from "./test_app.ts";

Deno.test("SlidingWindowLimiter allows `limit` attempts per window, then says when to retry", () => {
  const limiter = new SlidingWindowLimiter({ limit: 3, windowMs: 1_000, maxKeys: 10 });
  assert.equal(limiter.take("a", 0).allowed, true);
  assert.equal(limiter.take("a", 100).allowed, true);
  assert.equal(limiter.take("a", 200).allowed, true);
  assert.deepEqual(limiter.take("a", 300), { allowed: false, retryAfterMs: 700 });
  assert.equal(limiter.take("b", 300).allowed, true, "other keys are counted apart");
  // The window slides: the attempt at 0 leaves it at 1,000, the refused one never counted.
  assert.equal(limiter.take("a", 1_000).allowed, true);
  assert.deepEqual(limiter.take("a", 1_001), { allowed: false, retryAfterMs: 99 });
});

Deno.test("SlidingWindowLimiter tracks at most maxKeys keys, forgetting the least recently seen", () => {
  const limiter = new SlidingWindowLimiter({ limit: 1, windowMs: 60_000, maxKeys: 1_000 });
  for (let i = 0; i < 5_000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`, i);
  assert.equal(limiter.size, 1_000);
  // The most recent addresses are still limited; the first ones were forgotten.
  assert.equal(limiter.take("10.0.19.135", 5_000).allowed, false);
  assert.equal(limiter.take("10.0.0.0", 5_000).allowed, true);
});

Deno.test("Console sign-in: 10 attempts a minute per address, then 429 with Retry-After", async (t) => {
  let now = Date.parse("2026-12-01T10:00:00Z");
  await using test = await startTestApp({ env: { FLOWGATE_TRUSTED_PROXIES: "10.9.9.9" } });
  // An app on the test's KV with a clock the test moves.
  const app = createApp(createAppContext({
    kv: test.kv,
    config: test.config,
    services: test.ctx.services,
    clock: () => now,
    proxy: null,
  }));
  const signIn = (address: string, token = "wrong-token", forwardedFor?: string) =>
    app.request("/sign-in", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(forwardedFor ? { "X-Forwarded-For": forwardedFor } : {}),
      },
      body: new URLSearchParams({ token }).toString(),
    }, { remoteAddr: { hostname: address, port: 1, transport: "tcp" } });

  await t.step(
    `${SIGN_IN_ATTEMPTS} attempts pass (refused for the CSRF token, not the rate)`,
    async () => {
      for (let i = 0; i < SIGN_IN_ATTEMPTS; i++) {
        const response = await signIn("192.0.2.1");
        assert.equal(response.status, 403);
        await response.body?.cancel();
      }
    },
  );
  await t.step("the next one gets 429, a Retry-After and a page saying why", async () => {
    now += 30_000;
    const response = await signIn("192.0.2.1", ADMIN_TOKEN);
    assert.equal(response.status, 429);
    assert.equal(response.headers.get("Retry-After"), "30");
    assert.match(response.headers.get("content-type") ?? "", /text\/html/);
    const page = await response.text();
    assert.match(page, /Too many sign-in attempts from 192\.0\.2\.1/);
    assert.match(page, /at most 10 a minute/);
  });
  await t.step("another address is not affected", async () => {
    const response = await signIn("192.0.2.2");
    assert.equal(response.status, 403);
    await response.body?.cancel();
  });
  await t.step("behind a trusted proxy, the forwarded address counts", async () => {
    for (let i = 0; i < SIGN_IN_ATTEMPTS; i++) {
      await (await signIn("10.9.9.9", "x", `198.51.100.${i}`)).body?.cancel();
    }
    const fresh = await signIn("10.9.9.9", "x", "198.51.100.200");
    assert.equal(fresh.status, 403, "each forwarded client has its own budget");
    await fresh.body?.cancel();
    const spoofed = await signIn("192.0.2.1", "x", "198.51.100.201");
    assert.equal(spoofed.status, 429, "an untrusted peer's X-Forwarded-For is ignored");
    await spoofed.body?.cancel();
  });
  await t.step("once the window has passed, attempts are allowed again", async () => {
    now += SIGN_IN_WINDOW_MS;
    const response = await signIn("192.0.2.1");
    assert.equal(response.status, 403);
    await response.body?.cancel();
  });
});
