import assert from "node:assert/strict";
import { ParamRenderError, resolveParams } from "../../engine/params.ts";
import { renderTemplate } from "../../engine/template.ts";
import { descriptor, node } from "./fake_modules.ts";

const module = descriptor("p", "action", {
  params: [
    { id: "plain", label: "Plain", type: "input", default: "fallback" },
    { id: "nodefault", label: "No default", type: "input" },
    { id: "jinja", label: "Jinja", type: "textarea", jinja_supported: true },
    { id: "list", label: "List", type: "picker", multiple: true, default: ["All admins"] },
  ],
});
const data = { Event: { info: "Phishing wave" } };

Deno.test("resolveParams() falls back from missing to null to default to ''", async (t) => {
  await t.step("missing values take the default, or ''", () => {
    const values = resolveParams(module, node("n", "p", "action"), data, renderTemplate);
    assert.deepEqual(values, { plain: "fallback", nodefault: "", jinja: "", list: ["All admins"] });
  });
  await t.step("null takes the default; '' and 0 stay as they are", () => {
    const values = resolveParams(
      module,
      node("n", "p", "action", [], { plain: null, nodefault: 0, jinja: "", list: "" }),
      data,
      renderTemplate,
    );
    assert.deepEqual(values, { plain: "fallback", nodefault: 0, jinja: "", list: "" });
  });
  await t.step(
    "undeclared params are ignored and a PHP empty-array params list is accepted",
    () => {
      const withExtra = node("n", "p", "action", [], { plain: "x", other: "ignored" });
      assert.equal("other" in resolveParams(module, withExtra, data, renderTemplate), false);
      const emptyList = {
        ...node("n", "p", "action"),
        params: [] as unknown as Record<string, unknown>,
      };
      assert.equal(resolveParams(module, emptyList, data, renderTemplate).plain, "fallback");
    },
  );
});

Deno.test("resolveParams() renders only Jinja-supported non-empty strings", () => {
  const values = resolveParams(
    module,
    node("n", "p", "action", [], { plain: "{{ Event.info }}", jinja: "Alert: {{ Event.info }}" }),
    data,
    renderTemplate,
  );
  assert.equal(values.plain, "{{ Event.info }}");
  assert.equal(values.jinja, "Alert: Phishing wave");
});

Deno.test("resolveParams() renders a Jinja default the node leaves unset (MISP uses it as text)", () => {
  const withDefault = descriptor("d", "action", {
    params: [{
      id: "message",
      label: "Message",
      type: "textarea",
      jinja_supported: true,
      default: "Publication of {{ Event.info }}",
    }],
  });
  const values = resolveParams(withDefault, node("n", "d", "action"), data, renderTemplate);
  assert.equal(values.message, "Publication of Phishing wave");
});

Deno.test("resolveParams() fails with the template's line instead of MISP's silent ''", () => {
  assert.throws(
    () =>
      resolveParams(
        module,
        node("n", "p", "action", [], { jinja: "line one\n{% if %}" }),
        data,
        renderTemplate,
      ),
    (error: unknown) => {
      assert.ok(error instanceof ParamRenderError);
      assert.equal(error.param, "jinja");
      assert.match(error.message, /^Cannot render param "jinja": .*line 2/);
      return true;
    },
  );
});
