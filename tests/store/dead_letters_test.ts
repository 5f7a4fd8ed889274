import assert from "node:assert/strict";
import { ulid } from "ulid";
import {
  addDeadLetter,
  countDeadLetters,
  deleteDeadLetter,
  listDeadLetters,
  MAX_COUNTED_DEAD_LETTERS,
} from "../../store/dead_letters.ts";
import { NotFoundError } from "../../store/errors.ts";

Deno.test("addDeadLetter() records letters that listDeadLetters() pages and deleteDeadLetter() drops", async () => {
  using kv = await Deno.openKv(":memory:");
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    ids.push(
      await addDeadLetter(kv, {
        kind: "chat-post",
        payload: { i },
        error: `boom ${i}`,
        attempts: 5,
      }),
    );
  }
  const first = await listDeadLetters(kv, { limit: 2 });
  assert.deepEqual(first.items.map((letter) => letter.error), ["boom 2", "boom 1"]);
  const second = await listDeadLetters(kv, { limit: 2, cursor: first.cursor! });
  assert.deepEqual(second.items.map((letter) => letter.payload), [{ i: 0 }]);
  assert.equal(second.cursor, undefined);
  await deleteDeadLetter(kv, ids[1]!);
  assert.deepEqual((await listDeadLetters(kv)).items.map((letter) => letter.id), [ids[2], ids[0]]);
  await assert.rejects(() => deleteDeadLetter(kv, ids[1]!), NotFoundError);
});

Deno.test("listDeadLetters() shows a message the queue gave up on as kind queue", async () => {
  using kv = await Deno.openKv(":memory:");
  const id = ulid();
  const message = { type: "intake", "intake_id": id, trigger: "event-publish", "run_ids": ["r1"] };
  // What KV writes under `keysIfUndelivered` once every retry failed.
  await kv.set(["dead_letters", id], message);
  const [letter] = (await listDeadLetters(kv)).items;
  assert.equal(letter?.id, id);
  assert.equal(letter?.kind, "queue");
  assert.deepEqual(letter?.payload, message);
  await deleteDeadLetter(kv, id);
  assert.deepEqual((await listDeadLetters(kv)).items, []);
});

Deno.test("countDeadLetters() counts up to a limit and says when there are more", async (t) => {
  using kv = await Deno.openKv(":memory:");
  await t.step("an empty store", async () => {
    assert.deepEqual(await countDeadLetters(kv), { count: 0, more: false });
  });
  for (let i = 0; i < 3; i++) {
    await addDeadLetter(kv, { kind: "intake", payload: { i }, error: "boom", attempts: 5 });
  }
  await t.step("under, at and over the limit", async () => {
    assert.deepEqual(await countDeadLetters(kv), { count: 3, more: false });
    assert.deepEqual(await countDeadLetters(kv, 3), { count: 3, more: false });
    assert.deepEqual(await countDeadLetters(kv, 2), { count: 2, more: true });
  });
  assert.equal(MAX_COUNTED_DEAD_LETTERS, 10_000);
});
