import assert from "node:assert/strict";
import { renderTemplate, TemplateError } from "../../engine/template.ts";
import {
  MAX_TEMPLATE_LIST_ITEMS,
  MAX_TEMPLATE_OUTPUT,
  MAX_TEMPLATE_RENDER_MS,
  MAX_TEMPLATE_VALUE_SIZE,
} from "../../engine/limits.ts";
import { runWorkflow } from "../../engine/run_workflow.ts";
import type { TemplateOptions } from "../../engine/module_services.ts";
import { eventWith, node, testServices, workflowOf } from "./fake_modules.ts";
import { ENGINE_LOOKUPS } from "../../modules/registry.ts";

/** A template that makes 2^40 macro calls and outputs nothing: only a clock can stop it. */
const TIME_BOMB =
  "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}";

/** Asserts that rendering throws a TemplateError whose message matches `pattern`. */
function assertRefused(
  template: string,
  data: unknown,
  pattern: RegExp,
  options?: TemplateOptions,
): void {
  assert.throws(() => renderTemplate(template, data, options), (error: unknown) => {
    assert.ok(error instanceof TemplateError, `expected a TemplateError, got ${error}`);
    assert.match(error.message, pattern);
    return true;
  });
}

const OUTPUT_LIMIT = `more than the limit of ${MAX_TEMPLATE_OUTPUT}`;

Deno.test("renderTemplate() refuses a filter's output past MAX_TEMPLATE_OUTPUT before building it", async (t) => {
  await t.step("center(400000000)", () => {
    assertRefused(
      "{{ 'x' | center(400000000) }}",
      {},
      new RegExp(`Filter "center" would build 400000000 characters, ${OUTPUT_LIMIT}`),
    );
  });
  await t.step("center(20000000)", () => {
    assertRefused("{{ 'x' | center(20000000) }}", {}, /Filter "center" would build 20000000/);
  });
  await t.step("center(10 ** 400) (Infinity)", () => {
    assertRefused("{{ 'x' | center(10 ** 400) }}", {}, /Filter "center" would build Infinity/);
  });
  await t.step("indent(1000000000) on two lines, and on one with indentfirst", () => {
    assertRefused("{{ 'a\nb' | indent(1000000000) }}", {}, /Filter "indent" would build/);
    assertRefused("{{ 'a' | indent(1000000000, true) }}", {}, /Filter "indent" would build/);
  });
  await t.step("indent(1000000000) on one line indents nothing and builds nothing", () => {
    assert.equal(renderTemplate("{{ 'ab' | indent(1000000000) }}", {}), "ab");
  });
  await t.step("replace with a huge count", () => {
    assertRefused(
      "{{ s | replace('a', r, 1000000000000) }}",
      { s: "a".repeat(2_000), r: "b".repeat(1_000) },
      new RegExp(`Filter "replace" would build 2000000 characters, ${OUTPUT_LIMIT}`),
    );
    assert.equal(renderTemplate("{{ 'aaa' | replace('a', 'bb', 1000000000000) }}", {}), "bbbbbb");
  });
  await t.step("replace of '' puts the replacement between every character", () => {
    assertRefused(
      "{{ s | replace('', r) }}",
      { s: "a".repeat(2_000), r: "b".repeat(1_000) },
      /Filter "replace" would build 2003000 characters/,
    );
  });
  await t.step("join of a big list", () => {
    assertRefused(
      "{{ l | join(',') }}",
      { l: Array(600_000).fill("ab") },
      /Filter "join" would build at least \d+ characters/,
    );
  });
  await t.step("truncate(1000000000) returns the text; a huge end is refused", () => {
    assert.equal(renderTemplate("{{ 'x y' | truncate(1000000000) }}", {}), "x y");
    assertRefused(
      "{{ 'x y z' | truncate(3, true, e) }}",
      { e: "z".repeat(MAX_TEMPLATE_OUTPUT + 1) },
      /Filter "truncate" would build/,
    );
  });
  await t.step("escape, urlencode, nl2br and format count their growth", () => {
    const big = { lt: "<".repeat(300_000), euro: "€".repeat(300_000), nl: "\n".repeat(300_000) };
    assertRefused("{{ lt | escape }}", big, /Filter "escape" would build 1200000 characters/);
    assertRefused("{{ lt | forceescape }}", big, /Filter "forceescape" would build/);
    assertRefused("{{ euro | urlencode }}", big, /Filter "urlencode" would build 2700000/);
    assertRefused("{{ nl | nl2br }}", big, /Filter "nl2br" would build/);
    assertRefused(
      "{{ '%s%s%s%s' | format(lt, lt, lt, lt) }}",
      big,
      /Filter "format" would build \d+ characters/,
    );
  });
  await t.step("sum of strings", () => {
    assertRefused(
      "{{ l | sum }}",
      { l: Array(2_000).fill("x".repeat(1_000)) },
      /Filter "sum" would build/,
    );
    assert.equal(renderTemplate("{{ [1, 2, 3] | sum }}|{{ ['a', 'b'] | sum }}", {}), "6|00ab");
  });
  await t.step("tojson with indentation of deeply nested data", () => {
    let nested: unknown = 1;
    for (let depth = 0; depth < 5_000; depth++) nested = [nested];
    assertRefused("{{ v | tojson(10) }}", { v: nested }, /Filter "tojson" would build more than/);
  });
  await t.step("urlize of many short links", () => {
    assertRefused("{{ s | urlize }}", { s: "www.x ".repeat(200_000) }, /Filter "urlize"/);
  });
  await t.step("wordwrap does not exist in nunjucks", () => {
    assertRefused("{{ 'x' | wordwrap(1000000000) }}", {}, /filter not found: wordwrap/);
  });
  await t.step("'x' * n is arithmetic (NaN), never repetition", () => {
    assert.equal(renderTemplate("{{ 'x' * 1000000000 }}", {}), "NaN");
  });
});

Deno.test("renderTemplate() refuses lists past MAX_TEMPLATE_LIST_ITEMS before making them", async (t) => {
  const limit = new RegExp(`more than the limit of ${MAX_TEMPLATE_LIST_ITEMS}`);
  await t.step("range(1000000000)", () => {
    assertRefused("{{ range(1000000000) | length }}", {}, /range\(\) would make 1000000000 items/);
    assertRefused("{% for i in range(1000000000) %}{% endfor %}", {}, limit);
  });
  await t.step("range up to Infinity", () => {
    assertRefused("{{ range(0, 10 ** 400) | length }}", {}, /range\(\) would make Infinity/);
  });
  await t.step("batch padded to 1000000000 items", () => {
    assertRefused("{{ [1, 2] | batch(1000000000, 'x') }}", {}, /Filter "batch" would pad/);
  });
  await t.step("slice into 1000000000 slices", () => {
    assertRefused("{{ [1, 2] | slice(1000000000) }}", {}, /Filter "slice" would make/);
  });
  await t.step("the same filters still work at sensible sizes", () => {
    assert.equal(
      renderTemplate(
        "{{ range(3) | join(',') }}|{{ [1, 2, 3] | batch(2, 'x') | dump }}|{{ [1, 2, 3] | slice(2) | dump }}",
        {},
      ),
      '0,1,2|[[1,2],[3,"x"]]|[[1,2],[3]]',
    );
  });
});

Deno.test("renderTemplate() bounds strings and values built in loops", async (t) => {
  await t.step("doubling a string with ~ in a namespace stops at the cap", () => {
    assertRefused(
      "{% set ns = namespace(x='xx') %}{% for i in range(40) %}{% set ns.x = ns.x ~ ns.x %}" +
        "{% endfor %}{{ ns.x | length }}",
      {},
      new RegExp(
        `The "~" operator would build 1048576\\d* characters|The "~" operator would build`,
      ),
    );
  });
  await t.step("doubling with + stops the same way", () => {
    assertRefused(
      "{% set ns = namespace(x='xx') %}{% for i in range(40) %}{% set ns.x = ns.x + ns.x %}" +
        "{% endfor %}",
      {},
      new RegExp(`The "\\+" operator would build \\d+ characters, ${OUTPUT_LIMIT}`),
    );
  });
  await t.step("accumulating below the cap still works", () => {
    assert.equal(
      renderTemplate(
        "{% set ns = namespace(csv='') %}{% for a in l %}{% set ns.csv = ns.csv ~ a ~ ',' %}" +
          "{% endfor %}{{ ns.csv }}",
        { l: ["a", "b", "c"] },
      ),
      "a,b,c,",
    );
  });
  await t.step("a list doubled by shared references cannot be printed into gigabytes", () => {
    assertRefused(
      "{% set ns = namespace(a=[1]) %}{% for i in range(60) %}{% set ns.a = [ns.a, ns.a] %}" +
        "{% endfor %}{{ ns.a }}",
      {},
      new RegExp(
        "(A list literal|Setting a namespace attribute) would build a value of more than " +
          MAX_TEMPLATE_VALUE_SIZE,
      ),
    );
  });
  await t.step("the same with a dict", () => {
    assertRefused(
      "{% set ns = namespace(a={}) %}{% for i in range(60) %}{% set ns.a = {x: ns.a, y: ns.a} %}" +
        "{% endfor %}{{ ns.a }}",
      {},
      /A dict literal would build a value of more than/,
    );
  });
  await t.step("list + list doubling stops at the list cap", () => {
    assertRefused(
      "{% set ns = namespace(a=[1]) %}{% for i in range(60) %}{% set ns.a = ns.a + ns.a %}" +
        "{% endfor %}",
      {},
      new RegExp(
        `The "\\+" operator would build a list of \\d+ items, more than the limit of ${MAX_TEMPLATE_LIST_ITEMS}`,
      ),
    );
  });
  await t.step("a namespace cannot hold itself", () => {
    assertRefused(
      "{% set ns = namespace(a=1) %}{% set ns.me = ns %}",
      {},
      new RegExp(
        `Setting a namespace attribute would build a value of more than ${MAX_TEMPLATE_VALUE_SIZE}`,
      ),
    );
  });
  await t.step("a namespace grown in place is measured again where it is held", () => {
    // `box` was measured while `ns` was small; `[box, box]` must see what `ns` holds now.
    assertRefused(
      "{% set ns = namespace(a=1) %}{% set box = [ns] %}{% for i in range(20) %}" +
        "{% set ns.a = [ns.a, ns.a] %}{% endfor %}{% set twice = [box, box] %}",
      {},
      new RegExp(`A list literal would build a value of more than ${MAX_TEMPLATE_VALUE_SIZE}`),
    );
  });
  await t.step("a slice counts what it builds", () => {
    assertRefused(
      "{% set ns = namespace(s='') %}{% for i in range(40) %}{% set ns.s = s[:] %}{% endfor %}",
      { s: "x".repeat(MAX_TEMPLATE_OUTPUT) },
      /A slice would build \d+ more characters, past the limit of \d+ built by one render/,
    );
  });
  await t.step("a loop filter counts the items it tests", () => {
    assertRefused(
      "{% for a in range(150000) if a == 0 %}{% for b in range(150000) if false %}{% endfor %}" +
        "{% endfor %}",
      {},
      /Template runs more than 200000 loop iterations/,
    );
  });
  await t.step("map with a filter or a default measures its list", () => {
    assertRefused(
      "{{ l | map('center', 1000000) | length }}",
      { l: Array(100).fill("x") },
      /Filter "map" would build a list of more than/,
    );
    assertRefused(
      "{{ l | map(attribute='nope', default=big) | length }}",
      { l: Array(100).fill({}), big: "x".repeat(1_000_000) },
      /Filter "map" would build a list of more than/,
    );
  });
  await t.step("literal template text in a loop counts towards the output cap", () => {
    assertRefused(
      "{% for i in range(150000) %}0123456789{% endfor %}",
      {},
      new RegExp(`Template output exceeds ${MAX_TEMPLATE_OUTPUT} characters`),
    );
  });
});

Deno.test("renderTemplate() runs regex literals on the linear-time engine", async (t) => {
  await t.step("r/^(a+)+$/ on 'a' * 27 + '!' completes (no match)", () => {
    const subject = "a".repeat(27) + "!";
    assert.equal(renderTemplate("{{ s | replace(r/^(a+)+$/, 'x') }}", { s: subject }), subject);
  });
  await t.step("and on 100,000 a's", () => {
    const subject = "a".repeat(100_000) + "!";
    assert.equal(
      renderTemplate("{{ s | replace(r/^(a+)+$/g, 'x') | length }}", { s: subject }),
      "100001",
    );
  });
  await t.step("a regex replacement's growth is bounded too", () => {
    assertRefused(
      "{{ s | replace(r/a/g, '$&$&$&$&$&$&$&$&$&$&$&$&$&$&$&$&') }}",
      { s: "a".repeat(100_000) },
      /Filter "replace" would build/,
    );
  });
  await t.step("constructs RE2 cannot run are refused when the template compiles", () => {
    assertRefused(
      "{{ s | replace(r/(a)\\1/, 'x') }}",
      {},
      /line 1, column 16: Cannot use regex "r\/\(a\)\\1\/": backreferences are not supported/,
    );
    assertRefused(
      "{{ s | replace(r/a(?=b)/, 'x') }}",
      {},
      /lookahead assertions are not supported/,
    );
    assertRefused("{{ s | replace(r/a/y, 'x') }}", {}, /the sticky flag "y" is not supported/);
  });
});

Deno.test("renderTemplate() keeps striptags and trim linear on crafted text", async (t) => {
  await t.step("trim of 'x' + 500,000 spaces + 'x'", () => {
    const subject = "x" + " ".repeat(500_000) + "x";
    assert.equal(renderTemplate("{{ s | trim | length }}", { s: ` ${subject}\n` }), "500002");
  });
  await t.step("striptags of '<a' repeated and of unclosed comments", () => {
    const tags = "<a".repeat(200_000);
    assert.equal(renderTemplate("{{ s | striptags | length }}", { s: tags }), "400000");
    const comments = "<!--".repeat(100_000);
    assert.equal(renderTemplate("{{ s | striptags | length }}", { s: comments }), "400000");
  });
  await t.step("striptags(true) of a long run of spaces", () => {
    const subject = "x" + " ".repeat(500_000) + "x";
    assert.equal(renderTemplate("{{ s | striptags(true) }}", { s: subject }), "x x");
  });
  await t.step("the results are nunjucks' own", () => {
    const html = "<b>hi</b> <!-- c -->  there\n\n\n\n  <a href='x'>x</a> \r\n y ";
    assert.equal(
      renderTemplate("{{ s | striptags(true) }}|{{ s | striptags }}", { s: html }),
      "hi there\n\nx\ny|hi there x y",
    );
  });
});

Deno.test("renderTemplate() stops at the deadline, the abort signal and MAX_TEMPLATE_RENDER_MS", async (t) => {
  await t.step("a deadline already passed", () => {
    assertRefused(
      "{{ 1 }}",
      {},
      /^Cannot render template: rendering took longer than the verdict deadline$/,
      {
        deadline: performance.now() - 1,
      },
    );
  });
  await t.step("an aborted signal", () => {
    const controller = new AbortController();
    controller.abort(new Error("Verdict deadline passed"));
    assertRefused("{{ 1 }}", {}, /the run was aborted \(Verdict deadline passed\)/, {
      signal: controller.signal,
    });
  });
  await t.step("a render that would run for hours stops at a deadline soon", () => {
    assertRefused(TIME_BOMB, {}, /rendering took longer than the verdict deadline/, {
      deadline: performance.now() + 100,
    });
  });
  await t.step("and at MAX_TEMPLATE_RENDER_MS with no deadline", () => {
    assertRefused(
      TIME_BOMB,
      {},
      new RegExp(`rendering took longer than ${MAX_TEMPLATE_RENDER_MS} ms`),
    );
  });
  await t.step("a later deadline does not lift the per-render cap", () => {
    assertRefused(
      TIME_BOMB,
      {},
      new RegExp(`rendering took longer than ${MAX_TEMPLATE_RENDER_MS} ms`),
      { deadline: performance.now() + 60_000 },
    );
  });
});

Deno.test("runWorkflow() fails a node whose template outlives the deadline, and lets the deadline win", async (t) => {
  // stop-execution decides the run: a failure there blocks (outcome "blocked", as in MISP).
  const workflow = workflowOf("event-publish", [
    node("t", "event-publish", "trigger", [["stop"]]),
    node("stop", "stop-execution", "action", [], { message: TIME_BOMB }),
  ]);

  await t.step(
    "as the verdict path runs it: the deadline timer fires, then the run ends",
    async () => {
      const deadline = performance.now() + 300;
      const controller = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => {
          controller.abort(new DOMException("Verdict deadline passed", "TimeoutError"));
          resolve("timeout");
        }, deadline - performance.now());
      });
      const run = runWorkflow(workflow, eventWith(["tlp:red"]), {
        ...ENGINE_LOOKUPS,
        services: testServices(),
        signal: controller.signal,
        deadline,
      });
      try {
        // The verdict path's race: a frozen event loop would let the run win with its failure.
        assert.equal(await Promise.race([run, expired]), "timeout");
      } finally {
        clearTimeout(timer);
      }
      const result = await run;
      assert.equal(result.outcome, "blocked");
      assert.equal(result.success, false);
      assert.equal(result.deciding_node_id, "stop");
      assert.match(result.errors.join("\n"), /rendering took longer than the verdict deadline/);
    },
  );

  await t.step("with a deadline and no abort signal, the run still returns", async () => {
    const result = await runWorkflow(workflow, eventWith(["tlp:red"]), {
      ...ENGINE_LOOKUPS,
      services: testServices(),
      deadline: performance.now() + 100,
    });
    assert.equal(result.outcome, "blocked");
    assert.match(result.errors.join("\n"), /rendering took longer than the verdict deadline/);
  });
});

Deno.test("renderTemplate() refuses to show values nested past 1,000 levels, as Python's repr", async (t) => {
  const nested = "{% set ns = namespace(a=[]) %}{% for i in range(5000) %}" +
    "{% set ns.a = [ns.a] %}{% endfor %}{% set a = ns.a %}";
  await t.step("printing", () => {
    assertRefused(
      `${nested}{{ a }}`,
      {},
      /Printing a value would show a value nested more than 1000/,
    );
  });
  await t.step("tojson", () => {
    assertRefused(`${nested}{{ a | tojson }}`, {}, /Filter "tojson" would show a value nested/);
  });
  await t.step("join and ~ of a nested list", () => {
    assertRefused(`${nested}{{ [a] | join }}`, {}, /Filter "join" would show a value nested/);
    assertRefused(`${nested}{{ 'x' ~ a }}`, {}, /The "~" operator would show a value nested/);
  });
});
