import assert from "node:assert/strict";
import { getManySliced } from "../../store/get_many.ts";

Deno.test("getManySliced() reads any number of keys in order, in getMany slices of 10", async () => {
  using kv = await Deno.openKv(":memory:");
  for (let i = 0; i < 25; i += 2) await kv.set(["n", i], i * 10);
  let calls = 0;
  const getMany = kv.getMany.bind(kv);
  const counted = Object.assign(Object.create(kv), {
    getMany: (keys: Deno.KvKey[]) => {
      calls++;
      assert.ok(keys.length <= 10, `${keys.length} keys in one getMany`);
      return getMany(keys);
    },
  }) as Deno.Kv;
  const keys = Array.from({ length: 25 }, (_, i) => ["n", i]);
  const entries = await getManySliced<number>(counted, keys);
  assert.equal(calls, 3);
  assert.deepEqual(
    entries.map((entry) => [entry.key, entry.value]),
    keys.map((key, i) => [key, i % 2 === 0 ? i * 10 : null]),
  );
  assert.deepEqual(await getManySliced(counted, []), []);
});
