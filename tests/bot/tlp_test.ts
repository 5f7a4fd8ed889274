import assert from "node:assert/strict";
import { classifyData, isCleared, maxTlp, parseTlp, withheldNotice } from "../../services/tlp.ts";
import { realEvent } from "../server/test_app.ts";

Deno.test("parseTlp() reads TLP names, white as clear, and refuses the rest", () => {
  assert.equal(parseTlp("tlp:RED"), "red");
  assert.equal(parseTlp("TLP:AMBER+STRICT"), "amber+strict");
  assert.equal(parseTlp("tlp:white"), "clear");
  assert.equal(parseTlp("tlp:purple"), undefined);
  assert.equal(maxTlp("green", "amber"), "amber");
});

Deno.test("classifyData() finds the strongest TLP and PAP anywhere in a real MISP event", async (t) => {
  await t.step("an untagged real event is unmarked", async () => {
    assert.deepEqual(classifyData(await realEvent()), {});
  });
  await t.step("tlp:red on one attribute marks the whole event red", async () => {
    assert.equal(classifyData(await realEvent({ tlpRed: true })).tlp, "red");
  });
  await t.step("event tags, EventTag wrappers and PAP", async () => {
    const event = await realEvent();
    const inner = event.Event as Record<string, unknown>;
    inner.Tag = [{ name: "tlp:green" }, { name: "PAP:AMBER" }];
    inner.EventTag = [{ Tag: { name: "tlp:amber" } }];
    assert.deepEqual(classifyData(event), { tlp: "amber", pap: "AMBER" });
  });
  await t.step("a value that merely looks like a tag is not a tag", () => {
    assert.deepEqual(
      classifyData({ Event: { info: "tlp:red", Attribute: [{ value: "tlp:red" }] } }),
      {},
    );
  });
});

Deno.test("isCleared() compares content to the chat's ceiling, unmarked counting as amber", () => {
  assert.equal(isCleared("red", "amber"), false);
  assert.equal(isCleared("amber", "amber"), true);
  assert.equal(isCleared(undefined, "amber"), true);
  assert.equal(isCleared(undefined, "green"), false);
  assert.equal(isCleared("red", "red"), true);
  assert.match(withheldNotice("red", "01X"), /TLP:RED content withheld.*\/api\/runs\/01X/);
});
