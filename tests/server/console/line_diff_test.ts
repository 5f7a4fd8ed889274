import assert from "node:assert/strict";
import fc from "fast-check";
import { diffLines } from "../../../server/console/line_diff.ts";

/** LCS length by the textbook recursion, to check the diff keeps as many lines as possible. */
function lcsLength(a: string[], b: string[]): number {
  const memo = new Map<string, number>();
  const go = (i: number, j: number): number => {
    if (i === a.length || j === b.length) return 0;
    const key = `${i},${j}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    const value = a[i] === b[j] ? 1 + go(i + 1, j + 1) : Math.max(go(i + 1, j), go(i, j + 1));
    memo.set(key, value);
    return value;
  };
  return go(0, 0);
}

Deno.test("diffLines() marks kept, added and deleted lines", async (t) => {
  await t.step("equal texts: all kept", () => {
    assert.deepEqual(diffLines("a\nb\n", "a\nb\n"), [
      { op: "same", text: "a" },
      { op: "same", text: "b" },
    ]);
  });
  await t.step("a changed line: deleted, then added", () => {
    assert.deepEqual(
      diffLines("name: x\nenabled: true\norder: 1\n", "name: x\nenabled: false\norder: 1\n"),
      [
        { op: "same", text: "name: x" },
        { op: "del", text: "enabled: true" },
        { op: "add", text: "enabled: false" },
        { op: "same", text: "order: 1" },
      ],
    );
  });
  await t.step("from and to nothing", () => {
    assert.deepEqual(diffLines("", "a"), [{ op: "add", text: "a" }]);
    assert.deepEqual(diffLines("a", ""), [{ op: "del", text: "a" }]);
    assert.deepEqual(diffLines("", ""), []);
  });
});

Deno.test("diffLines() rebuilds both texts and keeps a longest common subsequence", () => {
  const lines = fc.array(fc.constantFrom("a", "b", "c", "d", "then: x"), { maxLength: 12 });
  fc.assert(
    fc.property(lines, lines, (a, b) => {
      const diff = diffLines(a.join("\n"), b.join("\n"));
      assert.deepEqual(diff.filter((line) => line.op !== "add").map((line) => line.text), a);
      assert.deepEqual(diff.filter((line) => line.op !== "del").map((line) => line.text), b);
      assert.equal(diff.filter((line) => line.op === "same").length, lcsLength(a, b));
    }),
    { numRuns: 300 },
  );
});
