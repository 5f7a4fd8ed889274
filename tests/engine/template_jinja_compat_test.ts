/**
 * Flowgate's templates against Jinja2, which MISP renders params with (misp-modules'
 * `jinja_template_rendering.py`: `SandboxedEnvironment()`, no autoescape, undefined prints '').
 * Every `jinja` output below was generated once with Jinja2 3.1.6 in that environment (python3 on
 * the development machine) and hardcoded, so the test does not need Python. The templates are
 * the forms MISP's blueprints, module defaults and editor help use, and the Jinja2 syntax nunjucks
 * lacks.
 */

import assert from "node:assert/strict";
import { renderTemplate, TemplateError } from "../../engine/template.ts";

interface CompatCase {
  name: string;
  template: string;
  data: Record<string, unknown>;
  /** Jinja2's output. */
  jinja?: string;
  /** Jinja2's error, when Jinja2 refuses the render (MISP then renders the param as ''). */
  jinjaError?: string;
}

const EVENT = {
  "Event": {
    "info": "Phishing wave",
    "published": false,
    "threat_level_id": "1",
    "distribution": null,
    "Tag": [{ "name": "tlp:white" }, { "name": "pap:red" }],
    "Attribute": [{ "type": "ip-dst", "value": "198.51.100.7", "to_ids": true, "comment": "" }, {
      "type": "domain",
      "value": "evil.example",
      "to_ids": false,
      "comment": "C&C <panel>",
    }, { "type": "ip-dst", "value": "203.0.113.9", "to_ids": true, "comment": null }],
  },
};

const ENRICHED = {
  "__currentAttribute": {
    "value": "198.51.100.7",
    "type": "ip-dst",
    "enrichment": [{
      "Object": [{
        "name": "abuseipdb",
        "Attribute": [
          { "object_relation": "is-malicious", "value": "True", "type": "boolean" },
          { "object_relation": "abuse-confidence-score", "value": "85", "type": "counter" },
          { "object_relation": "malicious", "value": "1", "type": "boolean" },
          { "object_relation": "FileName", "value": "putty.exe", "type": "filename" },
        ],
      }],
    }],
  },
};

const CASES: Record<string, CompatCase[]> = {
  "blueprints": [
    {
      name: "abuseipdb curation comment (numeric lookups .0.)",
      template:
        '{% for objectAttribute in __currentAttribute.enrichment.0.Object.0.Attribute %}\n\t{% if objectAttribute.object_relation == "is-malicious" %}\n\t\t[Curation pipeline enrichment:abusipdb.is-malicious] `{{ objectAttribute.value }}`\n\t{% endif %}\n{% endfor %}',
      data: ENRICHED,
      jinja:
        "\n\t\n\t\t[Curation pipeline enrichment:abusipdb.is-malicious] `True`\n\t\n\n\t\n\n\t\n\n\t\n",
    },
    {
      name: "hashlookup curation comment",
      template:
        '{% for objectAttribute in __currentAttribute.enrichment.0.Object.0.Attribute %}\n\t{% if objectAttribute.object_relation == "FileName" %}\n\t\t[Curation pipeline enrichment:filename] `{{ objectAttribute.value }}`\n\t{% endif %}\n{% endfor %}',
      data: ENRICHED,
      jinja:
        "\n\t\n\n\t\n\n\t\n\n\t\n\t\t[Curation pipeline enrichment:filename] `putty.exe`\n\t\n",
    },
    {
      name: "google safe browsing curation comment",
      template:
        '{% for objectAttribute in __currentAttribute.enrichment.0.Object.0.Attribute %}\n\t{% if objectAttribute.object_relation == "malicious" %}\n\t\t[Curation pipeline enrichment:google-safe-browsing.malicious] `{{ objectAttribute.value }}`\n\t{% endif %}\n{% endfor %}',
      data: ENRICHED,
      jinja:
        "\n\t\n\n\t\n\n\t\n\t\t[Curation pipeline enrichment:google-safe-browsing.malicious] `1`\n\t\n\n\t\n",
    },
    {
      name: "abuseipdb comment without enrichment fails as in Jinja2",
      template:
        '{% for objectAttribute in __currentAttribute.enrichment.0.Object.0.Attribute %}\n\t{% if objectAttribute.object_relation == "is-malicious" %}\n\t\t[Curation pipeline enrichment:abusipdb.is-malicious] `{{ objectAttribute.value }}`\n\t{% endif %}\n{% endfor %}',
      data: { "__currentAttribute": { "value": "198.51.100.7", "enrichment": [] } },
      jinjaError: "UndefinedError: list object has no element 0",
    },
  ],
  "numeric lookups": [
    {
      name: "a.0.b and a.1.0",
      template: "{{ a.0.b }}|{{ b.1.0 }}|{{ b.1.1 }}",
      data: { "a": [{ "b": "x" }], "b": [[1], [2, 3]] },
      jinja: "x|2|3",
    },
    {
      name: "a.0 on a dict with key '0' is undefined, as dict[0] in Python",
      template: "[{{ d.0 }}][{{ d['0'] }}]",
      data: { "d": { "0": "s" } },
      jinja: "[][s]",
    },
    { name: "out of range is undefined", template: "[{{ l.5 }}]", data: { "l": [1] }, jinja: "[]" },
    {
      name: "floats, strings and negative indexes stay themselves",
      template: "{{ 1.5 }}|{{ 'a.0.b' }}|{{ l[-1] }}|{{ s.0 }}{{ s[-1] }}",
      data: { "l": [1, 2], "s": "xyz" },
      jinja: "1.5|a.0.b|2|xz",
    },
    {
      name: "chained after a subscript",
      template: "{{ a[0].b.0 }}",
      data: { "a": [{ "b": ["deep"] }] },
      jinja: "deep",
    },
  ],
  "tests": [
    {
      name: "is defined / is not defined",
      template:
        "{{ x is defined }}|{{ y is defined }}|{{ x is not defined }}|{{ y is not defined }}",
      data: { "x": 1 },
      jinja: "True|False|False|True",
    },
    {
      name: "is none, is not none, is true, is boolean",
      template:
        "{{ n is none }}|{{ x is none }}|{{ n is not none }}|{{ t is true }}|{{ t is false }}|{{ t is boolean }}",
      data: { "n": null, "x": 1, "t": true },
      jinja: "True|False|False|True|False|True",
    },
    {
      name: "a test argument without parentheses",
      template: "{{ 6 is divisibleby 3 }}|{{ n is sameas none }}|{{ x is eq 1 }}|{{ 3 is odd }}",
      data: { "n": null, "x": 1 },
      jinja: "True|True|True|True",
    },
    {
      name: "is string, number, iterable, mapping",
      template: "{{ x is string }}|{{ x is number }}|{{ l is iterable }}|{{ d is mapping }}",
      data: { "x": "a", "l": [], "d": {} },
      jinja: "True|False|True|True",
    },
    {
      name: "if on is not defined",
      template: "{% if y is not defined %}nd{% endif %}{% if x is defined and x %}d{% endif %}",
      data: { "x": 1 },
      jinja: "ndd",
    },
    {
      name: "reject('none')",
      template: "{{ l | reject('none') | list }}",
      data: { "l": [1, null] },
      jinja: "[1]",
    },
  ],
  "printing": [
    {
      name: "None, True, False and undefined",
      template: "{{ n }}|{{ t }}|{{ f }}|{{ y }}",
      data: { "n": null, "t": true, "f": false },
      jinja: "None|True|False|",
    },
    {
      name: "Python and Jinja literals",
      template: "{{ none }}|{{ None }}|{{ true }}|{{ True }}|{{ false }}|{{ False }}",
      data: {},
      jinja: "None|None|True|True|False|False",
    },
    {
      name: "lists and dicts as Python shows them",
      template: "{{ l }}|{{ d }}",
      data: { "l": ["a", 1, null, true, 1.5, "it's"], "d": { "k": "v", "n": null } },
      jinja: "['a', 1, None, True, 1.5, \"it's\"]|{'k': 'v', 'n': None}",
    },
    {
      name: "numbers",
      template: "{{ i }}|{{ f }}|{{ small }}|{{ -1 }}",
      data: { "i": 10, "f": 1.5, "small": 1e-05 },
      jinja: "10|1.5|1e-05|-1",
    },
    { name: "a trailing newline is dropped", template: "line\n", data: {}, jinja: "line" },
    {
      name: "only one trailing newline is dropped",
      template: "line\n\n",
      data: {},
      jinja: "line\n",
    },
    { name: "CRLF reads as LF", template: "a\r\nb\r\n", data: {}, jinja: "a\nb" },
  ],
  "concat": [
    {
      name: "~ joins text as Python's str()",
      template: "{{ 'a' ~ 1 ~ n ~ t ~ y ~ l }}",
      data: { "n": null, "t": true, "l": [1] },
      jinja: "a1NoneTrue[1]",
    },
  ],
  "tojson": [
    {
      name: "sorted keys, Python separators, HTML-safe, ASCII",
      template: "{{ d | tojson }}",
      data: { "d": { "b": "<x>&'\"", "a": [1, 2.5, null, true], "u": "é" } },
      jinja: '{"a": [1, 2.5, null, true], "b": "\\u003cx\\u003e\\u0026\\u0027\\"", "u": "\\u00e9"}',
    },
    {
      name: "indent",
      template: "{{ d | tojson(2) }}",
      data: { "d": { "b": 1, "a": [1], "e": {} } },
      jinja: '{\n  "a": [\n    1\n  ],\n  "b": 1,\n  "e": {}\n}',
    },
    {
      name: "a string and a line separator",
      template: "{{ s | tojson }}",
      data: { "s": "é\u2028" },
      jinja: '"\\u00e9\\u2028"',
    },
    {
      name: "MISP's example: an attribute",
      template: "{{ Event.Attribute[1] | tojson }}",
      data: EVENT,
      jinja:
        '{"comment": "C\\u0026C \\u003cpanel\\u003e", "to_ids": false, "type": "domain", "value": "evil.example"}',
    },
  ],
  "loop": [
    {
      name: "loop.index, index0, first, last, length, revindex",
      template:
        "{% for i in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }};{% endfor %}",
      data: { "l": ["a", "b"] },
      jinja: "10TrueFalse221;21FalseTrue210;",
    },
    {
      name: "for ... else on an empty list",
      template: "{% for x in l %}{{ x }}{% else %}empty{% endfor %}",
      data: { "l": [] },
      jinja: "empty",
    },
    {
      name: "loop.cycle and nested loops",
      template:
        "{% for a in l %}{% for b in l %}{{ loop.index }}{% endfor %}{{ loop.cycle('x', 'y') }}{% endfor %}",
      data: { "l": [1, 2] },
      jinja: "12x12y",
    },
  ],
  "whitespace": [
    {
      name: "-%} and {%- trim",
      template: "a  {%- if true -%}  b  {%- endif -%}  c\n  {{- 'd' -}}  \n e",
      data: {},
      jinja: "abcde",
    },
    {
      name: "blocks keep their newlines (trim_blocks off)",
      template: "  {% if true %}\n  x\n  {% endif %}\n",
      data: {},
      jinja: "  \n  x\n  ",
    },
    {
      name: "MISP's list example",
      template: "{% for attribute in Event.Attribute %}\n- {{ attribute.value }}\n{% endfor %}",
      data: EVENT,
      jinja: "\n- 198.51.100.7\n\n- evil.example\n\n- 203.0.113.9\n",
    },
  ],
  "set": [
    {
      name: "set and block set",
      template: "{% set x = 1 %}{{ x }}{% set y %}in {{ x }}{% endset %}[{{ y }}]",
      data: {},
      jinja: "1[in 1]",
    },
  ],
  "filters": [
    {
      name: "default",
      template:
        "{{ y | default('d') }}|{{ n | default('d') }}|{{ e | default('d') }}|{{ e | default('d', true) }}|{{ f | default('d') }}",
      data: { "n": null, "e": "", "f": false },
      jinja: "d|None||d|False",
    },
    {
      name: "length",
      template: "{{ l | length }}|{{ s | length }}|{{ d | length }}|{{ y | length }}",
      data: { "l": [1, 2], "s": "abc", "d": { "a": 1 } },
      jinja: "2|3|1|0",
    },
    {
      name: "join",
      template:
        "{{ l | join(',') }}|{{ l | join }}|{{ Event.Tag | map(attribute='name') | join(', ') }}",
      data: { ...EVENT, l: ["a", 1, true, null] },
      jinja: "a,1,True,None|a1TrueNone|tlp:white, pap:red",
    },
    {
      name: "lower and upper",
      template: "{{ s | lower }}|{{ s | upper }}",
      data: { "s": "AbC" },
      jinja: "abc|ABC",
    },
    {
      name: "e, escape and safe (autoescape is off)",
      template: "{{ s | e }}|{{ s | escape }}|{{ s | safe }}|{{ s }}|{{ n | e }}",
      data: { "s": "<a href='x'>&\"</a>", "n": null },
      jinja:
        "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;|&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;|<a href='x'>&\"</a>|<a href='x'>&\"</a>|None",
    },
    {
      name: "int",
      template:
        "{{ '42' | int }}|{{ '4.7' | int }}|{{ 'x' | int }}|{{ 'x' | int(7) }}|{{ 4.7 | int }}|{{ n | int }}|{{ t | int }}",
      data: { "n": null, "t": true },
      jinja: "42|4|0|7|4|0|1",
    },
    {
      name: "string",
      template: "{{ 1 | string }}|{{ n | string }}|{{ t | string }}|{{ l | string }}",
      data: { "n": null, "t": true, "l": [1, "a"] },
      jinja: "1|None|True|[1, 'a']",
    },
    {
      name: "dictsort",
      template: "{{ d | dictsort }}",
      data: { "d": { "b": 1, "a": 2 } },
      jinja: "[('a', 2), ('b', 1)]",
    },
    {
      name: "unique, min, max",
      template: "{{ l | unique | list }}|{{ l | min }}|{{ l | max }}|{{ w | unique | join(',') }}",
      data: { "l": [3, 1, 3], "w": ["A", "a", "b"] },
      jinja: "[3, 1]|1|3|A,b",
    },
    {
      name: "urlencode keeps '/'",
      template: "{{ s | urlencode }}",
      data: { "s": "a b&c/é" },
      jinja: "a%20b%26c/%C3%A9",
    },
    {
      name: "format with %s and %r",
      template: "{{ '%s|%r|%s' | format(n, s, t) }}",
      data: { "n": null, "s": "x", "t": true },
      jinja: "None|'x'|True",
    },
    {
      name: "MISP's examples: reverse, format, groupby",
      template:
        '{{ Event.info | reverse }}\n{{ "%s :: %s" | format(Event.Attribute[0].type, Event.Attribute[0].value) }}\n{% for type, attributes in Event.Attribute|groupby("type") %}\n- {{ type }}{% for attribute in attributes %}\n    - {{ attribute.value }}\n    {% endfor %}\n{% endfor %}',
      data: EVENT,
      jinja:
        "evaw gnihsihP\nip-dst :: 198.51.100.7\n\n- domain\n    - evil.example\n    \n\n- ip-dst\n    - 198.51.100.7\n    \n    - 203.0.113.9\n    \n",
    },
    {
      name: "MISP's example: tag membership",
      template:
        '{% if "tlp:white" in Event.Tag %}\n- This Event has the TLP:WHITE tag\n{% else %}\n- This Event doesn\'t have the TLP:WHITE tag\n{% endif %}',
      data: EVENT,
      jinja: "\n- This Event doesn't have the TLP:WHITE tag\n",
    },
  ],
  "methods": [
    {
      name: "dict.items(), keys(), values(), get()",
      template:
        "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{{ d.items() | list }}|{{ d.keys() | list }}|{{ d.values() | list }}|{{ d.get('a') }}|{{ d.get('z') }}|{{ d.get('z', 'dflt') }}",
      data: { "d": { "a": 1, "b": "x" } },
      jinja: "a=1;b=x;|[('a', 1), ('b', 'x')]|['a', 'b']|[1, 'x']|1|None|dflt",
    },
    {
      name: "str methods",
      template:
        "{{ s.upper() }}|{{ s.lower() }}|{{ s.startswith('A') }}|{{ s.endswith(('x', 'b')) }}|{{ s.split(',') }}|{{ w.split() }}|{{ w.strip() }}|{{ s.replace(',', ';') }}|{{ w.split(None, 1) }}",
      data: { "s": "A,b", "w": "  x  y z " },
      jinja: "A,B|a,b|True|True|['A', 'b']|['x', 'y', 'z']|x  y z|A;b|['x', 'y z ']",
    },
  ],
  "subscripts": [
    {
      name: "list and dict subscripts",
      template: "{{ l[0] }}|{{ d['k'] }}|{{ Event['info'] }}",
      data: { ...EVENT, l: [1, 2, 3], d: { "k": "v" } },
      jinja: "1|v|Phishing wave",
    },
  ],
  "operators": [
    {
      name: "in, and, or, not, inline if",
      template:
        "{{ 'tlp:white' in l }}|{{ 'x' in s }}|{{ 'k' in d }}|{{ a and b }}|{{ a or b }}|{{ not a }}|{{ x if x else 'no' }}",
      data: { "l": ["tlp:white"], "s": "xyz", "d": { "k": 1 }, "a": 1, "b": 0, "x": 0 },
      jinja: "True|True|True|0|1|False|no",
    },
    {
      name: "arithmetic that prints integers",
      template: "{{ 3 / 2 }}|{{ 7 // 2 }}|{{ 7 % 3 }}|{{ 2 ** 3 }}|{{ 1 + 2 }}",
      data: {},
      jinja: "1.5|3|1|8|3",
    },
  ],
  "other": [
    {
      name: "comments, raw, macros, filter blocks",
      template:
        "{# c #}{% raw %}{{ x }}{% endraw %}{% macro m(a, b='B') %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}{% filter upper %}abc{% endfilter %}",
      data: {},
      jinja: "{{ x }}1BABC",
    },
  ],
  "set scoping": [
    {
      name: "a set in a loop stays in its iteration",
      template:
        "{% set x = 0 %}{% for i in [1,2,3] %}{% set x = x + i %}{{ x }}{% endfor %}|{{ x }}",
      data: {},
      jinja: "123|0",
    },
    {
      name: "each iteration starts from the outer value",
      template: "{% set x = 5 %}{% for i in l %}{{ x }}{% set x = i %}{{ x }};{% endfor %}{{ x }}",
      data: { "l": [1, 2, 3] },
      jinja: "51;52;53;5",
    },
    {
      name: "a set in an if inside a loop is gone at the next iteration",
      template:
        "{% for i in l %}{% if loop.first %}{% set y = 1 %}{% endif %}[{{ y }}]{% endfor %}",
      data: { "l": [1, 2, 3] },
      jinja: "[1][][]",
    },
    {
      name: "an inner loop does not leak into the outer one",
      template:
        "{% for i in [1,2] %}{% for j in [1,2] %}{% set z = i * 10 + j %}{% endfor %}[{{ z }}]{% endfor %}",
      data: {},
      jinja: "[][]",
    },
    {
      name: "setting the outer loop variable in an inner loop",
      template: "{% for i in l %}{% for j in [1] %}{% set i = 7 %}{% endfor %}{{ i }}{% endfor %}",
      data: { "l": [1, 2, 3] },
      jinja: "123",
    },
    {
      name: "the loop else block has its own scope",
      template: "{% set x = 1 %}{% for i in [] %}{% else %}{% set x = 2 %}{% endfor %}{{ x }}",
      data: {},
      jinja: "1",
    },
    {
      name: "a set in a top-level if is seen after it",
      template: "{% if true %}{% set x = 5 %}{% endif %}{{ x }}",
      data: {},
      jinja: "5",
    },
    {
      name: "a macro's set stays in the macro",
      template:
        "{% set x = 1 %}{% macro m(a) %}{% for i in [1] %}{% set a = 9 %}{% endfor %}{% set x = 2 %}{{ x }}{{ a }}{% endmacro %}{{ m(3) }}{{ x }}",
      data: {},
      jinja: "231",
    },
    {
      name: "a set in a loop shadows the loop variable for the rest of the iteration",
      template: "{% for i in l %}{% set i = i * 10 %}{{ i }},{% endfor %}",
      data: { "l": [1, 2, 3] },
      jinja: "10,20,30,",
    },
  ],
  "namespace": [
    {
      name: "carries a count out of a loop",
      template:
        "{% set ns = namespace(count=0) %}{% for t in Tag if t.name.startswith('tlp:') %}{% set ns.count = ns.count + 1 %}{% endfor %}{{ ns.count }}",
      data: { "Tag": [{ "name": "tlp:white" }, { "name": "pap:red" }, { "name": "tlp:red" }] },
      jinja: "2",
    },
    {
      name: "accumulates text",
      template:
        "{% set ns = namespace(csv='') %}{% for t in Tag %}{% set ns.csv = ns.csv ~ t.name ~ ',' %}{% endfor %}{{ ns.csv }}",
      data: { "Tag": [{ "name": "tlp:white" }, { "name": "pap:red" }, { "name": "tlp:red" }] },
      jinja: "tlp:white,pap:red,tlp:red,",
    },
    {
      name: "doubles text a few times",
      template:
        "{% set ns = namespace(x='a') %}{% for i in range(3) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}{{ ns.x }}",
      data: {},
      jinja: "aaaaaaaa",
    },
    {
      name: "prints as Jinja2's Namespace",
      template: "{% set ns = namespace(x='a', y=2) %}{{ ns }}|{{ ns.y }}|{{ ns.z }}|{{ ns['x'] }}",
      data: {},
      jinja: "<Namespace {'x': 'a', 'y': 2}>|2||a",
    },
    {
      name: "from a dict, keywords win",
      template: "{% set ns = namespace({'a': 1, 'b': 1}, b=2) %}{{ ns.a }}{{ ns.b }}",
      data: {},
      jinja: "12",
    },
    {
      name: "empty, then set",
      template:
        "{% set ns = namespace() %}{% set ns.a = [1] %}{% set ns.a = ns.a + [2] %}{{ ns.a }}",
      data: {},
      jinja: "[1, 2]",
    },
    {
      name: "a set block assigns an attribute",
      template: "{% set ns = namespace(x='a') %}{% set ns.x %}blk {{ ns.x }}{% endset %}{{ ns.x }}",
      data: {},
      jinja: "blk a",
    },
    {
      name: "two names share one namespace",
      template: "{% set ns = namespace(a=1) %}{% set other = ns %}{% set other.a = 2 %}{{ ns.a }}",
      data: {},
      jinja: "2",
    },
    {
      name: "tests",
      template:
        "{% set ns = namespace(a=1) %}{{ ns is defined }}{{ ns is mapping }}{{ ns is sequence }}{{ ns ~ '' }}",
      data: {},
      jinja: "TrueFalseFalse<Namespace {'a': 1}>",
    },
    {
      name: "only a namespace takes attributes",
      template: "{% set x = 1 %}{% set x.y = 2 %}",
      data: {},
      jinjaError: "TemplateRuntimeError: cannot assign attribute on non-namespace object",
    },
    {
      name: "is not JSON",
      template: "{% set ns = namespace(a=1) %}{{ ns | tojson }}",
      data: {},
      jinjaError: "TypeError: Object of type Namespace is not JSON serializable",
    },
    {
      name: "is not iterable",
      template: "{% set ns = namespace(a=1) %}{% for k in ns %}{{ k }}{% endfor %}",
      data: {},
      jinjaError: "TypeError: 'Namespace' object is not iterable",
    },
    {
      name: "a dict argument is needed",
      template: "{{ namespace(1) }}",
      data: {},
      jinjaError: "TypeError: 'int' object is not iterable",
    },
  ],
  "unpacking": [
    {
      name: "set a, b = 1, 2",
      template: "{% set a, b = 1, 2 %}{{ a }}|{{ b }}",
      data: {},
      jinja: "1|2",
    },
    {
      name: "from a list and a string",
      template: "{% set a, b = [3, 4] %}{% set c, d = 'xy' %}{{ a }}{{ b }}{{ c }}{{ d }}",
      data: {},
      jinja: "34xy",
    },
    {
      name: "a namespace attribute and a name",
      template: "{% set ns = namespace(x='a') %}{% set ns.x, b = 1, 2 %}{{ ns.x }}{{ b }}",
      data: {},
      jinja: "12",
    },
    {
      name: "one name takes the tuple",
      template: "{% set a = 1, 2 %}{{ a }}|{{ a | length }}|{{ a[1] }}",
      data: {},
      jinja: "(1, 2)|2|2",
    },
    {
      name: "too many values",
      template: "{% set a, b = 1, 2, 3 %}",
      data: {},
      jinjaError: "ValueError: too many values to unpack (expected 2)",
    },
    {
      name: "not enough values",
      template: "{% set a, b = [1] %}",
      data: {},
      jinjaError: "ValueError: not enough values to unpack (expected 2, got 1)",
    },
    {
      name: "not iterable",
      template: "{% set a, b = 5 %}",
      data: {},
      jinjaError: "TypeError: cannot unpack non-iterable int object",
    },
  ],
  "list concatenation": [
    {
      name: "list + list",
      template: "{{ l + [4] }}|{{ [] + [] }}|{{ (l + l) | length }}|{{ l ~ [4] }}",
      data: { "l": [1, 2, 3] },
      jinja: "[1, 2, 3, 4]|[]|6|[1, 2, 3][4]",
    },
    {
      name: "a list and a string",
      template: "{{ l + 'a' }}",
      data: { "l": [1, 2, 3] },
      jinjaError: 'TypeError: can only concatenate list (not "str") to list',
    },
    {
      name: "a string and a list",
      template: "{{ 'a' + l }}",
      data: { "l": [1, 2, 3] },
      jinjaError: 'TypeError: can only concatenate str (not "list") to str',
    },
    {
      name: "a list and none",
      template: "{{ l + none }}",
      data: { "l": [1, 2, 3] },
      jinjaError: 'TypeError: can only concatenate list (not "NoneType") to list',
    },
  ],
  "loop filters": [
    {
      name: "loop.* count the kept items",
      template:
        "{% for x in l if x > 1 %}{{ loop.index }}/{{ loop.length }}:{{ x }}{{ ',' if not loop.last }}{% endfor %}",
      data: { "l": [1, 2, 3] },
      jinja: "1/2:2,2/2:3",
    },
    {
      name: "else runs when nothing is kept",
      template: "{% for x in l if x > 5 %}{{ x }}{% else %}none{% endfor %}",
      data: { "l": [1, 2, 3] },
      jinja: "none",
    },
    {
      name: "with two names",
      template: "{% for k, v in {'a': 1, 'b': 2}.items() if v > 1 %}{{ k }}={{ v }}{% endfor %}",
      data: {},
      jinja: "b=2",
    },
    {
      name: "on MISP tags",
      template:
        "{% for t in Tag if t.name.startswith('tlp:') %}{{ loop.index }}:{{ t.name }} {% endfor %}",
      data: { "Tag": [{ "name": "tlp:white" }, { "name": "pap:red" }, { "name": "tlp:red" }] },
      jinja: "1:tlp:white 2:tlp:red ",
    },
    {
      name: "a parenthesised inline if is not a filter",
      template: "{% for x in (l if true else []) %}{{ x }}{% endfor %}",
      data: { "l": [1, 2, 3] },
      jinja: "123",
    },
  ],
  "with": [
    {
      name: "a with value is gone after the block",
      template: "{% with q = 1 %}{{ q }}{% endwith %}[{{ q }}]",
      data: {},
      jinja: "1[]",
    },
    {
      name: "values are computed outside the block",
      template: "{% set a = 5 %}{% with a = 1, b = a + 1 %}{{ a }}{{ b }}{% endwith %}{{ a }}",
      data: {},
      jinja: "165",
    },
    {
      name: "a set in a with block stays in it",
      template: "{% with %}{% set z = 3 %}{{ z }}{% endwith %}[{{ z }}]",
      data: {},
      jinja: "3[]",
    },
    {
      name: "a with value can be set again inside",
      template: "{% with a = 1 %}{% set a = 2 %}{{ a }}{% endwith %}",
      data: {},
      jinja: "2",
    },
  ],
  "slices": [
    {
      name: "lists and strings",
      template:
        "{{ l[1:3] }}|{{ l[::-1] }}|{{ 'hello'[::-1] }}|{{ 'hello'[1:] }}|{{ l[:-1] }}|{{ l[-2:] }}|{{ l[::2] }}|{{ 'abcdef'[1:5:2] }}",
      data: { "l": [1, 2, 3] },
      jinja: "[2, 3]|[3, 2, 1]|olleh|ello|[1, 2]|[2, 3]|[1, 3]|bd",
    },
    {
      name: "out of range and backwards",
      template:
        "{{ l[5:] }}|{{ l[3:1] }}|{{ l[3:1:-1] }}|{{ l[-10:2] }}|{{ l[:-10] }}|{{ l[10:0:-1] }}|{{ l[:-10:-1] }}",
      data: { "l": [1, 2, 3] },
      jinja: "[]|[]|[3]|[1, 2]|[]|[3, 2]|[3, 2, 1]",
    },
    {
      name: "left-out bounds",
      template: "{{ l[:] }}|{{ l[none:none] }}|{{ l[true:] }}",
      data: { "l": [1, 2, 3] },
      jinja: "[1, 2, 3]|[1, 2, 3]|[2, 3]",
    },
    {
      name: "non-ASCII text by characters",
      template: "{{ s[::-1] }}|{{ s[1:3] }}",
      data: { "s": "hé😀!" },
      jinja: "!😀éh|é😀",
    },
    {
      name: "none and dicts slice to nothing",
      template: "[{{ none[1:] }}][{{ {'a': 1}[1:] }}]",
      data: {},
      jinja: "[][]",
    },
    {
      name: "a zero step",
      template: "{{ l[::0] }}",
      data: { "l": [1, 2, 3] },
      jinjaError: "ValueError: slice step cannot be zero",
    },
    {
      name: "a text bound",
      template: "{{ l['a':] }}",
      data: { "l": [1, 2, 3] },
      jinjaError: "TypeError: slice indices must be integers or None or have an __index__ method",
    },
    {
      name: "a float bound",
      template: "{{ l[1.5:] }}",
      data: { "l": [1, 2, 3] },
      jinjaError: "TypeError: slice indices must be integers or None or have an __index__ method",
    },
    {
      name: "an undefined value",
      template: "{{ x[1:] }}",
      data: {},
      jinjaError: "UndefinedError: 'x' is undefined",
    },
  ],
  "block scopes": [
    {
      name: "a set inside a filter block stays in it",
      template: "{% set x = 1 %}{% filter upper %}{% set x = 2 %}{{ x }}{% endfilter %}{{ x }}",
      data: {},
      jinja: "21",
    },
    {
      name: "a set inside a set block stays in it",
      template: "{% set x = 1 %}{% set y %}{% set x = 2 %}{{ x }}{% endset %}{{ x }}{{ y }}",
      data: {},
      jinja: "12",
    },
    {
      name: "a namespace changed in a filter block",
      template:
        "{% set ns = namespace(a=1) %}{% filter upper %}{% set ns.a = 'b' %}{% endfilter %}{{ ns.a }}",
      data: {},
      jinja: "b",
    },
  ],
  "loops over dicts": [
    {
      name: "one name iterates the keys",
      template: "{% for k in Event %}{{ k }}{{ loop.length }};{% endfor %}",
      data: { "Event": { "info": "x", "Tag": [] } },
      jinja: "info2;Tag2;",
    },
    {
      name: "with a loop filter",
      template: "{% for k in {'a': 1, 'b': 2} if k != 'a' %}{{ k }}{{ loop.length }}{% endfor %}",
      data: {},
      jinja: "b1",
    },
  ],
  "truth": [
    {
      name: "an empty list or dict is false in if and elif",
      template: "{% if Event.Tag %}tags{% elif Event.Object %}objects{% else %}none{% endif %}",
      data: { "Event": { "Tag": [], "Object": {} } },
      jinja: "none",
    },
    {
      name: "inline if and not",
      template: "{{ 'y' if [] else 'n' }}{{ not [] }}{{ not {} }}{{ not [0] }}",
      data: {},
      jinja: "nTrueTrueFalse",
    },
    {
      name: "and and or give an operand",
      template:
        "{{ [] or 'x' }}|{{ [1] and 'x' }}|{{ [] and 'x' }}|{{ 0 or '' or none }}|{{ {} or [] }}",
      data: {},
      jinja: "x|x|[]|None|[]",
    },
    {
      name: "and stops at the first false operand",
      template: "{% if x is defined and x.y %}a{% endif %}b",
      data: {},
      jinja: "b",
    },
    {
      name: "a loop filter",
      template: "{% for a in Event.Attribute if a.Tag %}{{ a.value }}{% endfor %}",
      data: {
        "Event": {
          "Attribute": [{ "value": "1", "Tag": [] }, { "value": "2", "Tag": [{ "name": "t" }] }],
        },
      },
      jinja: "2",
    },
    {
      name: "select and reject without a test",
      template:
        "{{ [[], [1], {}, 0, 'a'] | select | list }}{{ [[], [1], {}, 0, 'a'] | reject | list }}",
      data: {},
      jinja: "[[1], 'a'][[], {}, 0]",
    },
    {
      name: "default with true",
      template:
        "{{ [] | default('d', true) }}{{ [] | d('d', true) }}{{ [] | default('d') }}{{ 'x' | default('d', true) }}",
      data: {},
      jinja: "dd[]x",
    },
  ],
  "delimiters that close nothing": [
    {
      name: "a stray comment end",
      template: 'a #} b {"note": "#}"}',
      data: {},
      jinja: 'a #} b {"note": "#}"}',
    },
    { name: "after a comment", template: "{# c #} #}#}", data: {}, jinja: " #}#}" },
    {
      name: "on its own line before an expression",
      template: "a\n#} {{ x }}",
      data: { x: 1 },
      jinja: "a\n#} 1",
    },
    { name: "in a raw block", template: "{% raw %}#}{% endraw %}", data: {}, jinja: "#}" },
    {
      name: "stray variable and block ends",
      template: "}} %} é #} ü",
      data: {},
      jinja: "}} %} é #} ü",
    },
    {
      name: "an unclosed comment is still an error",
      template: "{# open #",
      data: {},
      jinjaError: "Missing end of comment tag",
    },
  ],
};

for (const [group, cases] of Object.entries(CASES)) {
  Deno.test(`renderTemplate() renders as Jinja2: ${group}`, async (t) => {
    for (const compat of cases) {
      await t.step(compat.name, () => {
        if (compat.jinjaError === undefined) {
          assert.equal(renderTemplate(compat.template, compat.data), compat.jinja);
        } else {
          assert.throws(() => renderTemplate(compat.template, compat.data), TemplateError);
        }
      });
    }
  });
}

Deno.test("renderTemplate() reads a numeric lookup only where Jinja2 does", async (t) => {
  await t.step("text, comments and float literals are left alone", () => {
    assert.equal(
      renderTemplate("{{ 'a.0.b' }}{# x.0 #}|{{ 1.5 }}|{{ l.0 + 0.5 }}|a.0.b", { l: [1] }),
      "a.0.b|1.5|1.5|a.0.b",
    );
  });
  await t.step("a lookup past a missing item fails at its line and column", () => {
    const template = CASES.blueprints![0]!.template;
    assert.throws(
      () => renderTemplate(template, { __currentAttribute: { enrichment: [] } }),
      (error: unknown) => {
        assert.ok(error instanceof TemplateError);
        assert.equal(error.line, 1);
        assert.match(error.message, /cannot look up "Object" of an undefined value/);
        return true;
      },
    );
  });
  await t.step("a dot with nothing after it is a syntax error with its place", () => {
    assert.throws(
      () => renderTemplate("ok\n{{ x.0. }}", {}),
      /line 2, column 9: expected name as lookup value, got }}/,
    );
  });
});

Deno.test("renderTemplate() differs from Jinja2 where the README says so", async (t) => {
  await t.step("`}}` ends a print even inside a dict literal (Jinja2 counts the braces)", () => {
    assert.throws(() => renderTemplate("{{ {'a': {'b': 1}} }}", {}), TemplateError);
    assert.equal(renderTemplate("{{ {'a': {'b': 1} } }}", {}), "{'a': {'b': 1}}");
  });
  await t.step("whole numbers print without '.0' (Jinja2 prints 2.0 for 4 / 2)", () => {
    assert.equal(renderTemplate("{{ 4 / 2 }}|{{ 3 | float }}", {}), "2|3");
  });
});
