import assert from "node:assert/strict";
import { claimChatDelivery } from "../../store/chat_deliveries.ts";

Deno.test("claimChatDelivery() wins once per key within the window", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = 1_000_000;
  assert.equal(await claimChatDelivery(kv, "slack", "event:E1", { now }), true);
  assert.equal(await claimChatDelivery(kv, "slack", "event:E1", { now: now + 1 }), false);
  assert.equal(await claimChatDelivery(kv, "telegram", "event:E1", { now }), true);
  const results = await Promise.all(
    Array.from({ length: 5 }, () => claimChatDelivery(kv, "slack", "event:E2", { now })),
  );
  assert.equal(results.filter(Boolean).length, 1);
  assert.equal(
    await claimChatDelivery(kv, "slack", "event:E1", { now: now + 100, windowMs: 50 }),
    true,
  );
});
