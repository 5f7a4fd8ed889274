import assert from "node:assert/strict";
import { ulid } from "ulid";
import { addDeadLetter, deleteDeadLetter, listDeadLetters } from "../../store/dead_letters.ts";
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
