import assert from "node:assert/strict";
import { renderTemplate, TemplateError } from "../../engine/template.ts";
import { MAX_TEMPLATE_OUTPUT } from "../../engine/limits.ts";

const EVENT = JSON.parse(
  await Deno.readTextFile(
    new URL("../../../shared/data/misp-event-pymisp-sighting_2.json", import.meta.url),
  ),
);

Deno.test("renderTemplate() exposes the data's top-level keys as variables", async (t) => {
  await t.step("member access", () => {
    assert.equal(renderTemplate("{{ Event.info }}", EVENT), "This is the description");
  });
  await t.step("loops over a real event's attributes", () => {
    assert.equal(
      renderTemplate(
        "{% for a in Event.Attribute %}{{ a.type }}={{ a.value }};{% endfor %}",
        EVENT,
      ),
      "comment=Value to test;target-external=testvalue;",
    );
  });
  await t.step("undefined renders as an empty string", () => {
    assert.equal(renderTemplate("[{{ Event.nope }}{{ Missing }}]", EVENT), "[]");
  });
  await t.step("a member of an undefined value is an error, as Jinja2's UndefinedError", () => {
    assert.throws(
      () => renderTemplate("{{ Event.nope.deeper }}", EVENT),
      /line 1, column \d+: cannot look up "deeper" of an undefined value/,
    );
  });
  await t.step("non-object data gives no variables", () => {
    assert.equal(renderTemplate("[{{ length }}]", [1, 2]), "[]");
  });
});

Deno.test("renderTemplate() supports the filters MISP's examples use", async (t) => {
  await t.step("map(attribute=) and join", () => {
    assert.equal(
      renderTemplate("{{ Event.Tag | map(attribute='name') | join(', ') }}", EVENT),
      'misp-galaxy:botnet="Asprox"',
    );
  });
  await t.step("reverse", () => {
    assert.equal(renderTemplate("{{ [1, 2, 3] | reverse | join('') }}", {}), "321");
  });
  await t.step("format", () => {
    assert.equal(
      renderTemplate("{{ '%s has %d attributes (%.1f%%)' | format(n, c, p) }}", {
        n: "e1",
        c: 2.9,
        p: 12.345,
      }),
      "e1 has 2 attributes (12.3%)",
    );
  });
  await t.step("groupby in both Jinja forms", () => {
    const data = { A: [{ t: "ip" }, { t: "md5" }, { t: "ip" }] };
    assert.equal(
      renderTemplate(
        "{% for k, v in A | groupby('t') %}{{ k }}={{ v | length }};{% endfor %}",
        data,
      ),
      "ip=2;md5=1;",
    );
    assert.equal(
      renderTemplate(
        "{% for g in A | groupby('t') %}{{ g.grouper }}:{{ g.list | length }};{% endfor %}",
        data,
      ),
      "ip:2;md5:1;",
    );
  });
  await t.step("tojson gives JSON safe inside HTML", () => {
    assert.equal(
      renderTemplate("{{ v | tojson }}", { v: { a: "<b>&'" } }),
      '{"a": "\\u003cb\\u003e\\u0026\\u0027"}',
    );
  });
  await t.step("macros, including recursion", () => {
    assert.equal(
      renderTemplate(
        "{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}",
        {},
      ),
      "321",
    );
  });
});

Deno.test("renderTemplate() runs the constructs of misp-modules' tutorial template", () => {
  const template = [
    "{{ Event['info'] }}|{{ Event.info | reverse }}",
    '{% if "tlp:white" in Event.Tag %}white{% else %}not white{% endif %}',
    '{{ "%s :: %s" | format(Event.Attribute[0].type, Event.Attribute[0].value) }}',
    '{% for type, attributes in Event.Attribute | groupby("type") %}- {{ type }}:' +
    "{% for attribute in attributes %} {{ attribute.value }}{% endfor %}\n{% endfor %}",
    "{% raw %}{{ kept }}{% endraw %}",
  ].join("\n");
  assert.equal(
    renderTemplate(template, EVENT),
    [
      "This is the description|noitpircsed eht si sihT",
      "not white",
      "comment :: Value to test",
      "- comment: Value to test\n- target-external: testvalue\n",
      "{{ kept }}",
    ].join("\n"),
  );
});

Deno.test("renderTemplate() escapes interpolated values for the target, not the template text", async (t) => {
  const data = { v: `a"b<c>&_*.'` };
  const template = `<p class="x">{{ v }}</p>`;
  const expected: [Parameters<typeof renderTemplate>[2], string][] = [
    [undefined, `<p class="x">a"b<c>&_*.'</p>`],
    [{ escape: "html" }, `<p class="x">a&quot;b&lt;c&gt;&amp;_*.&#39;</p>`],
    [{ escape: "json" }, `<p class="x">a\\"b<c>&_*.'</p>`],
    [{ escape: "slack" }, `<p class="x">a"b&lt;c&gt;&amp;_*.'</p>`],
    [{ escape: "telegram-html" }, `<p class="x">a&quot;b&lt;c&gt;&amp;_*.'</p>`],
    [{ escape: "markdown" }, `<p class="x">a"b<c\\>&\\_\\*\\.'</p>`],
  ];
  for (const [options, output] of expected) {
    await t.step(options?.escape ?? "default", () => {
      assert.equal(renderTemplate(template, data, options), output);
    });
  }
  await t.step("json escaping keeps a payload valid JSON", () => {
    const payload = renderTemplate('{"text": "{{ v }}\\n{{ w }}"}', {
      v: 'x"}, "evil": 1, "',
      w: "\n\\",
    }, {
      escape: "json",
    });
    assert.deepEqual(JSON.parse(payload), { text: 'x"}, "evil": 1, "\n\n\\' });
  });
  await t.step("safe opts a value out", () => {
    assert.equal(renderTemplate("{{ v | safe }}", { v: "<b>" }, { escape: "html" }), "<b>");
  });
});

Deno.test("renderTemplate() cannot reach the runtime", async (t) => {
  const attempts = [
    `{{ "".constructor.constructor("return Deno")() }}`,
    `{{ [].constructor.constructor("return globalThis")() }}`,
    `{{ Event.info.constructor.constructor("return Deno.env.toObject()")() }}`,
    `{{ constructor.constructor("return Deno")() }}`,
    `{{ range.constructor("return Deno")() }}`,
    `{{ cycler.constructor("return Deno")() }}`,
    `{{ Event.__proto__.constructor.constructor("return Deno")() }}`,
    `{% set f = "".constructor.constructor %}{{ f("return Deno")() }}`,
    `{{ valueOf().env.filters.safe.constructor("return Deno")() }}`,
    `{{ x | valueOf }}`,
    `{{ Event.info.toUpperCase() }}`,
    `{{ Event | constructor }}`,
    `{{ Event.Tag | map(attribute="constructor.constructor") | first }}`,
    `{% include "/etc/passwd" %}`,
    `{% import "/etc/passwd" as x %}`,
    `{{ namespace.constructor("return Deno")() }}`,
    `{% set ns = namespace() %}{{ ns.constructor.constructor("return Deno")() }}`,
    `{% set ns = namespace() %}{% set ns.constructor = 1 %}{{ ns.x.constructor("return Deno")() }}`,
    `{% set __proto__ = {"x": 1} %}{{ x.constructor("return Deno")() }}`,
    `{% with constructor = 1 %}{{ constructor.constructor("return Deno")() }}{% endwith %}`,
    `{{ Event.info[0:].constructor.constructor("return Deno")() }}`,
  ];
  for (const attempt of attempts) {
    await t.step(attempt, () => {
      let output = "";
      try {
        output = renderTemplate(attempt, EVENT);
      } catch (error) {
        assert.ok(error instanceof TemplateError, String(error));
        return;
      }
      assert.doesNotMatch(output, /Deno|function|native code|root:/);
    });
  }
  await t.step("a template cannot set a prototype name", () => {
    for (const name of ["__proto__", "constructor", "prototype"]) {
      assert.throws(
        () => renderTemplate(`{% set ${name} = {'x': 1} %}{{ x }}`, {}),
        new RegExp(`cannot set "${name}": the name is reserved`),
      );
    }
  });
  await t.step("member lookups return nothing for prototype names", () => {
    assert.equal(
      renderTemplate(
        `[{{ "".constructor }}{{ Event.__proto__ }}{{ Event.prototype }}{{ constructor }}{{ toString }}]`,
        EVENT,
      ),
      "[]",
    );
  });
});

Deno.test("renderTemplate() throws TemplateError with line and column", async (t) => {
  await t.step("syntax error", () => {
    assert.throws(() => renderTemplate("line one\n\n  {{ foo( }}", {}), (error: unknown) => {
      assert.ok(error instanceof TemplateError);
      assert.ok(error instanceof SyntaxError);
      assert.equal(error.line, 3);
      assert.equal(error.column, 11);
      assert.match(error.message, /^Cannot render template: line 3, column 11: unexpected token/);
      return true;
    });
  });
  await t.step("unknown filter", () => {
    assert.throws(
      () => renderTemplate("{{ x | nope }}", {}),
      /Cannot render template: .*filter not found: nope/,
    );
  });
  await t.step("runaway loops", () => {
    assert.throws(
      () =>
        renderTemplate(
          "{% for a in x %}{% for b in x %}{% for c in x %}.{% endfor %}{% endfor %}{% endfor %}",
          { x: Array.from({ length: 100 }, (_, i) => i) },
        ),
      /loop iterations/,
    );
  });
  await t.step("output over the cap", () => {
    assert.throws(
      () =>
        renderTemplate("{% for a in x %}{{ y }}{% endfor %}", {
          x: Array.from({ length: 100 }, (_, i) => i),
          y: "z".repeat(MAX_TEMPLATE_OUTPUT / 50),
        }),
      (error: unknown) => error instanceof TemplateError && /exceeds/.test(error.message),
    );
  });
  await t.step("a failed render leaves later renders working", () => {
    assert.equal(renderTemplate("{{ a }}", { a: 1 }), "1");
  });
});

Deno.test("renderTemplate() caches compiled templates per escape mode", () => {
  const template = "{{ v }}";
  assert.equal(renderTemplate(template, { v: "<" }, { escape: "html" }), "&lt;");
  assert.equal(renderTemplate(template, { v: "<" }), "<");
  assert.equal(renderTemplate(template, { v: "<" }, { escape: "html" }), "&lt;");
});

Deno.test("renderTemplate() supports range() and regex literals", async (t) => {
  await t.step("range(stop), range(start, stop, step) and a negative step", () => {
    assert.equal(
      renderTemplate(
        "{{ range(3) | join(',') }}|{{ range(1, 10, 3) | join(',') }}|{{ range(5, 0, -2) | join(',') }}",
        {},
      ),
      "0,1,2|1,4,7|5,3,1",
    );
  });
  await t.step("range in a loop", () => {
    assert.equal(renderTemplate("{% for i in range(3) %}{{ i }};{% endfor %}", {}), "0;1;2;");
  });
  await t.step("data named range wins over the global", () => {
    assert.equal(renderTemplate("{{ range }}", { range: "r" }), "r");
  });
  await t.step("replace with a regex: first match, or every match with g", () => {
    assert.equal(
      renderTemplate("{{ s | replace(r/a/, 'x') }}|{{ s | replace(r/a/g, 'x') }}", { s: "banana" }),
      "bxnana|bxnxnx",
    );
  });
  await t.step("flags i and m", () => {
    assert.equal(
      renderTemplate("{{ s | replace(r/^b/gim, '#') }}", { s: "Ba\nba" }),
      "#a\n#a",
    );
  });
  await t.step("$&, $1, $<name>, $$ as in JavaScript", () => {
    assert.equal(
      renderTemplate(
        "{{ s | replace(r/(?<key>\\w+)=(\\d+)/g, '[$&|$<key>|$2|$$]') }}",
        { s: "a=1, b=22" },
      ),
      "[a=1|a|1|$], [b=22|b|22|$]",
    );
  });
  await t.step("$ means the end of the text, as in JavaScript", () => {
    assert.equal(renderTemplate("{{ s | replace(r/a$/, 'x') }}", { s: "a\n" }), "a\n");
  });
  await t.step("a regex literal prints as its literal", () => {
    assert.equal(renderTemplate("{{ r/a/ }}", {}), "r/a/");
  });
});
