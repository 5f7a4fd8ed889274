import assert from "node:assert/strict";
import { importBlueprint } from "../../engine/blueprint.ts";
import { checkTemplateSyntax } from "../../engine/template_syntax.ts";
import { validateWorkflow } from "../../engine/validate.ts";
import { parseWorkflowYaml } from "../../engine/yaml_codec.ts";
import { listModules, MODULE_CATALOG } from "../../modules/registry.ts";
import { createTestCatalog } from "../fixtures/test_catalog.ts";

const catalog = createTestCatalog();

Deno.test("checkTemplateSyntax() finds what would fail before a run, with line and column", async (t) => {
  const problems: [string, string, { detail: RegExp; line: number; column: number }][] = [
    ["an unclosed print", "{{ Event.info ", {
      detail: /^unexpected end of template, expected variable end$/,
      line: 1,
      column: 15,
    }],
    ["an unclosed block at the end", "a\n  {% if x %}", {
      detail: /^unexpected end of template, .*expected elif, else, or endif/,
      line: 2,
      column: 13,
    }],
    ["a bad token", "x\n{% for %}", { detail: /^unexpected token: %}$/, line: 2, column: 8 }],
    ["an unknown filter", "a\n{{ x | nope }}", {
      detail: /^unknown filter "nope"$/,
      line: 2,
      column: 8,
    }],
    ["an unknown test", "{{ x is nope }}", { detail: /^unknown test "nope"$/, line: 1, column: 9 }],
    ["a regex RE2 cannot run", "{{ x | replace(r/(a)\\1/, '') }}", {
      detail: /backreferences are not supported/,
      line: 1,
      column: 16,
    }],
    ["a slice with four parts", "{{ l[1:2:3:4] }}", {
      detail: /^expected '\]' to end the subscript, got :$/,
      line: 1,
      column: 11,
    }],
    ["an empty subscript", "{{ l[] }}", {
      detail: /^expected an index or a slice in \[\]$/,
      line: 1,
      column: 5,
    }],
    ["an unknown filter in a loop filter", "{% for a in l if a | nope %}{% endfor %}", {
      detail: /^unknown filter "nope"$/,
      line: 1,
      column: 22,
    }],
    ["an unknown filter in a with value", "{% with a = b | nope %}{% endwith %}", {
      detail: /^unknown filter "nope"$/,
      line: 1,
      column: 17,
    }],
    ["an unclosed with", "{% with a = 1 %}{{ a }}", {
      detail: /^unexpected end of template, .*endwith/,
      line: 1,
      column: 24,
    }],
    ["setting something that is not a name", "{% set a[0] = 1 %}", {
      detail: /^can only set a name or a namespace attribute/,
      line: 1,
      column: 9,
    }],
  ];
  for (const [name, template, expected] of problems) {
    await t.step(name, () => {
      const problem = checkTemplateSyntax(template);
      assert.ok(problem, "expected a problem");
      assert.match(problem.detail, expected.detail);
      assert.equal(problem.line, expected.line);
      assert.equal(problem.column, expected.column);
    });
  }
  await t.step("Jinja2 forms MISP uses pass", () => {
    for (
      const template of [
        "{{ __currentAttribute.enrichment.0.Object.0.Attribute }}",
        "{% for a in Event.Attribute %}{{ loop.index }}{% endfor %}",
        "{{ x is defined }}{{ x is not none }}{{ 6 is divisibleby 3 }}{{ x is true }}",
        "{{ a ~ b | tojson }}{% set y %}z{% endset %}{{- y -}}",
        "{{ d.items() | list }}{{ None }}{{ True }}",
        "{% set ns = namespace(n=0) %}{% for a in l if a %}{% set ns.n = ns.n + 1 %}{% endfor %}",
        "{% set a, b = 1, 2 %}{% with c = a + b %}{{ c }}{% endwith %}{{ l[1:] }}{{ s[::-1] }}",
        "plain text",
      ]
    ) assert.equal(checkTemplateSyntax(template), undefined, template);
  });
});

Deno.test("validateWorkflow() reports a broken template with node, field, line and column", () => {
  const workflow = parseWorkflowYaml(
    `name: broken-template
trigger: event-publish
start: stop
nodes:
  stop:
    module: stop-execution
    params:
      message: "Blocked: {{ Event.info "
`,
    { catalog },
  );
  const { errors } = validateWorkflow(workflow, catalog);
  assert.deepEqual(errors, [{
    code: "invalid-param",
    message: 'Node "stop" (stop-execution), field "params.message": template syntax error at ' +
      "line 1, column 24: unexpected end of template, expected variable end",
    node: "stop",
    field: "params.message",
  }]);
});

Deno.test("validateWorkflow() leaves params that take no template alone", () => {
  const workflow = parseWorkflowYaml(
    `name: not-a-template
trigger: event-publish
start: tag
nodes:
  tag:
    module: tag_operation
    params: { scope: attribute, tags: ["{{ not a template"] }
`,
    { catalog },
  );
  assert.deepEqual(validateWorkflow(workflow, catalog).errors, []);
});

Deno.test("validateWorkflow() accepts the curation blueprints' numeric lookups", async () => {
  const path = new URL(
    "../../../shared/data/blueprint_curation---toggle-automation-flag-from-network-ioc-based-on-abuseipdb.json",
    import.meta.url,
  );
  const source = await Deno.readTextFile(path);
  const workflow = importBlueprint(JSON.parse(source), { trigger: "event-publish" });
  const comment = workflow.nodes.find((node) => node.id === "57");
  assert.match(String(comment?.params.comment), /enrichment\.0\.Object\.0\.Attribute/);
  const problems = validateWorkflow(workflow, MODULE_CATALOG).errors
    .filter((problem) => problem.message.includes("template"));
  assert.deepEqual(problems, []);
});

Deno.test("checkTemplateSyntax() accepts every Jinja default of Flowgate's modules", () => {
  const defaults = listModules().flatMap((module) =>
    module.descriptor.params
      .filter((param) => param.jinja_supported && typeof param.default === "string")
      .map((
        param,
      ): [string, string] => [`${module.descriptor.id}.${param.id}`, String(param.default)])
  );
  assert.ok(defaults.some(([, template]) => template.includes("{{")), "no template default found");
  for (const [where, template] of defaults) {
    assert.equal(checkTemplateSyntax(template), undefined, where);
  }
});
