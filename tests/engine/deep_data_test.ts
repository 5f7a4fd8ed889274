import assert from "node:assert/strict";
import { exceedsDataDepth } from "../../engine/data_depth.ts";
import { eventFingerprint } from "../../engine/event_fingerprint.ts";
import { extract, get, HashPathError, insert, remove } from "../../engine/hash_path.ts";
import { MAX_DATA_DEPTH } from "../../engine/limits.ts";
import type { JsonObject } from "../../engine/model.ts";
import { realEvent } from "../server/test_app.ts";

const DEEP = 10_000;

/** `{"a": {"a": … leaf …}}`, `levels` objects deep. */
function deepObject(levels: number, leaf: unknown = "x"): unknown {
  let value = leaf;
  for (let level = 0; level < levels; level++) value = { a: value };
  return value;
}

/** Lists and objects alternating, `levels` deep. */
function deepMixed(levels: number): unknown {
  let value: unknown = "x";
  for (let level = 0; level < levels; level++) value = level % 2 ? { a: value } : [value];
  return value;
}

Deno.test("exceedsDataDepth() measures nesting without recursion", async (t) => {
  await t.step("scalars, empty and shallow containers", () => {
    assert.equal(exceedsDataDepth("x", 0), false);
    assert.equal(exceedsDataDepth(null, 0), false);
    assert.equal(exceedsDataDepth({}, 0), true);
    assert.equal(exceedsDataDepth({}, 1), false);
    assert.equal(exceedsDataDepth({ a: [] }, 1), true);
    assert.equal(exceedsDataDepth({ a: [], b: "x" }, 2), false);
  });
  await t.step("10,000 and 1,000,000 levels", () => {
    assert.equal(exceedsDataDepth(deepMixed(DEEP), MAX_DATA_DEPTH), true);
    assert.equal(exceedsDataDepth(deepObject(1_000_000), MAX_DATA_DEPTH), true);
    assert.equal(exceedsDataDepth(deepMixed(MAX_DATA_DEPTH), MAX_DATA_DEPTH), false);
  });
  await t.step("a cycle ends the walk at the limit", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(exceedsDataDepth(cyclic, MAX_DATA_DEPTH), true);
  });
});

Deno.test("eventFingerprint() hashes 10,000-level events without overflowing the stack", async (t) => {
  await t.step(
    "the fingerprint of a real event is unchanged (stored approvals stay valid)",
    async () => {
      // Computed by the recursive implementation this one replaced.
      assert.equal(
        eventFingerprint(await realEvent()),
        "9bd56e70bab3d92da74e4243c0ee0cdd1fc8a539fe7f6839363d5e0f0e4d0961",
      );
    },
  );
  await t.step("deep objects and lists", () => {
    const deep = { Event: { info: "x", a: deepMixed(DEEP) } } as JsonObject;
    const fingerprint = eventFingerprint(deep);
    assert.match(fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(eventFingerprint({ Event: { info: "x", a: deepMixed(DEEP) } }), fingerprint);
    const other = { Event: { info: "x", a: deepObject(DEEP, "y") } } as JsonObject;
    assert.notEqual(
      eventFingerprint(other),
      eventFingerprint({ Event: { info: "x", a: deepObject(DEEP) } }),
    );
  });
  await t.step("volatile keys are left out at every depth", () => {
    const plain = { Event: { a: deepObject(DEEP, { id: "1" }) } } as JsonObject;
    const published = {
      Event: { a: deepObject(DEEP, { id: "1", published: true }), published: true },
    } as JsonObject;
    assert.equal(eventFingerprint(published), eventFingerprint(plain));
  });
});

Deno.test("hash paths on 10,000-level data answer, and 10,000-key insert or remove paths are refused", async (t) => {
  const data = { Event: deepObject(DEEP) } as JsonObject;
  const keys = (count: number) => Array.from({ length: count }, () => "a").join(".");
  await t.step("get and extract follow the path iteratively", () => {
    assert.equal(get(data, `Event.${keys(DEEP)}`), "x");
    assert.deepEqual(extract(data, `Event.${keys(DEEP)}`), ["x"]);
    assert.deepEqual(extract(data, `Event.${Array(DEEP).fill("{s}").join(".")}`), ["x"]);
  });
  await t.step("insert and remove refuse a path over MAX_DATA_DEPTH keys", () => {
    for (const fn of [() => insert(data, keys(DEEP), 1), () => remove(data, keys(DEEP))]) {
      assert.throws(fn, (error: unknown) => {
        assert.ok(error instanceof HashPathError, String(error));
        assert.match(error.message, new RegExp(`has ${DEEP} keys, the limit is ${MAX_DATA_DEPTH}`));
        return true;
      });
    }
    const wildcards = Array(DEEP).fill("{s}").join(".");
    assert.throws(() => insert(data, wildcards, 1), HashPathError);
    assert.throws(() => remove(data, wildcards), HashPathError);
  });
  await t.step("paths up to the limit still work", () => {
    const inserted = insert({}, keys(MAX_DATA_DEPTH), 1);
    assert.equal(get(inserted, keys(MAX_DATA_DEPTH)), 1);
    assert.deepEqual(remove(inserted, keys(MAX_DATA_DEPTH)), {
      a: deepObject(MAX_DATA_DEPTH - 2, {}),
    });
  });
});
