import assert from "node:assert/strict";
import { parsePhpForm } from "../../server/php_form.ts";

Deno.test("parsePhpForm() rebuilds what PHP's http_build_query encoded", () => {
  const body = new URLSearchParams([
    ["Event[uuid]", "u-1"],
    ["Event[Attribute][0][value]", "a"],
    ["Event[Attribute][0][Tag][0][name]", "tlp:red"],
    ["Event[Attribute][1][value]", "b"],
    ["Event[_flags][]", "x"],
    ["Event[_flags][]", "y"],
    ["plain", "1"],
  ]).toString();
  assert.deepEqual(parsePhpForm(body), {
    Event: {
      uuid: "u-1",
      Attribute: [{ value: "a", Tag: [{ name: "tlp:red" }] }, { value: "b" }],
      _flags: ["x", "y"],
    },
    plain: "1",
  });
});

Deno.test("parsePhpForm() keeps maps with non-sequential numeric keys as objects", () => {
  assert.deepEqual(parsePhpForm("a[1]=x&a[3]=y"), { a: { "1": "x", "3": "y" } });
});
