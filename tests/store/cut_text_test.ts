import assert from "node:assert/strict";
import { cutMarker, cutText } from "../../store/cut_text.ts";

Deno.test("cutText() keeps short texts and cuts long ones with a marker", async (t) => {
  await t.step("a text within the cap is returned as is", () => {
    assert.equal(cutText("abc", 3), "abc");
  });
  await t.step("the marker counts the characters left out and says where the rest is", () => {
    assert.equal(
      cutText("x".repeat(312_010), 10, { where: "the trace" }),
      "x".repeat(10) + "… [cut: 312,000 more characters; whole text in the trace]",
    );
  });
  await t.step("a surrogate pair is never split", () => {
    assert.equal(cutText("a😀b", 2), "a… [cut: 3 more characters]");
  });
  await t.step("totalChars counts a whole text only the beginning of which was built", () => {
    assert.equal(cutText("abcdef", 3, { totalChars: 1_000 }), "abc… [cut: 997 more characters]");
  });
  await t.step("cutMarker() names other units", () => {
    assert.equal(cutMarker(1_234, { unit: "errors" }), "… [cut: 1,234 more errors]");
  });
});
