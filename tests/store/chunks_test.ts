import assert from "node:assert/strict";
import { sha256Hex, sha256HexOffThread } from "../../store/chunks.ts";

Deno.test("sha256Hex() answers the lowercase hex SHA-256 of bytes", async (t) => {
  const encode = (text: string) => new TextEncoder().encode(text);
  await t.step("FIPS 180-2 test vector", async () => {
    assert.equal(
      await sha256Hex(encode("abc")),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
  await t.step("same as WebCrypto for a view into a larger buffer", async () => {
    const whole = encode(`xx${"é".repeat(50_000)}yy`);
    const view = whole.subarray(2, whole.length - 2);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", view.slice()));
    const expected = Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
    assert.equal(await sha256Hex(view), expected);
  });
});

Deno.test("sha256HexOffThread() gives the same hash as sha256Hex()", async () => {
  for (const size of [0, 1, 65_536, 2_000_003]) {
    const bytes = new Uint8Array(size).map((_, i) => (i * 31) % 251);
    assert.equal(await sha256HexOffThread(bytes), await sha256Hex(bytes));
  }
});
