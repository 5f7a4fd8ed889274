import assert from "node:assert/strict";
import { sha256Hex } from "../../engine/digest.ts";

Deno.test("sha256Hex() hashes the UTF-8 bytes of a text as lowercase hex", async (t) => {
  const vectors: [string, string][] = [
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  ];
  for (const [text, hex] of vectors) {
    await t.step(JSON.stringify(text), async () => assert.equal(await sha256Hex(text), hex));
  }
  await t.step("non-ASCII text is encoded as UTF-8", async () => {
    assert.equal(await sha256Hex("é"), await sha256Hex("\u00e9"));
    assert.notEqual(await sha256Hex("é"), await sha256Hex("e\u0301"));
  });
});
