import assert from "node:assert/strict";
import { addChatCardEvent, addChatCardMessages, getChatCard } from "../../store/chat_cards.ts";

Deno.test("addChatCardEvent() records a final decision once", async () => {
  using kv = await Deno.openKv(":memory:");
  await addChatCardMessages(kv, "R1", [{
    platform: "slack",
    "chat_id": "C1",
    "message_id": "1.2",
  }]);
  const event = { action: "deny", by: "slack:U1", at: "2026-01-01T00:00:00Z", summary: "Denied" };
  assert.ok(await addChatCardEvent(kv, "R1", { ...event, final: true }));
  assert.equal(await addChatCardEvent(kv, "R1", { ...event, by: "slack:U2", final: true }), null);
  assert.ok(await addChatCardEvent(kv, "R1", { ...event, action: "replay", final: false }));
  const card = await getChatCard(kv, "R1");
  assert.deepEqual(card?.events.map((item) => [item.action, item.by]), [
    ["deny", "slack:U1"],
    ["replay", "slack:U1"],
  ]);
  assert.equal(card?.messages.length, 1);
});
