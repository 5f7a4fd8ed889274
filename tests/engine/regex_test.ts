import assert from "node:assert/strict";
import { compileRegex, pregMatch, RegexError } from "../../engine/regex.ts";
import { MAX_REGEX_LENGTH } from "../../engine/limits.ts";

function refusal(pattern: string): RegexError {
  try {
    compileRegex(pattern);
  } catch (error) {
    assert.ok(error instanceof RegexError, `expected a RegexError, got ${error}`);
    assert.ok(error instanceof SyntaxError);
    assert.equal(error.name, "RegexError");
    return error;
  }
  assert.fail(`${pattern} compiled`);
}

Deno.test("pregMatch() answers as preg_match", async (t) => {
  const table: [string, string, boolean][] = [
    ["/ip-/", "ip-dst", true],
    ["/^ip-dst$/", "ip-dst", true],
    ["/^IP/", "ip-dst", false],
    ["/^IP/i", "ip-dst", true],
    ["#^ip#", "ip-dst", true],
    ["~dst$~", "ip-dst", true],
    ["{^ip}", "ip-dst", true],
    ["(^ip)", "ip-dst", true],
    ["[^ip]", "ip-dst", true],
    ["<a(b)c>", "xabcx", true],
    ["  /a/", "a", true],
    ["/a\\/b/", "a/b", true],
    ["/^a.c$/", "a\nc", false],
    ["/^a.c$/s", "a\nc", true],
    ["/^c$/", "a\nc", false],
    ["/^c$/m", "a\nc", true],
    ["/a b/x", "ab", true],
    ["/a # comment\n b/x", "ab", true],
    ["/[ ]/x", " ", true],
    ["/a+/U", "aaa", true],
    ["/b/A", "ab", false],
    ["/a/A", "ab", true],
    ["/é/u", "café", true],
    ["/\\d{1,3}(?:\\.\\d{1,3}){3}/", "10.0.0.1", true],
    ["/(?<=a)b/", "ab", true],
    ["/(?<!a)b/", "ab", false],
    ["/(?P<word>\\w+)/", "x", true],
    ["/(?'word'\\w+)/", "x", true],
    ["/a(?#note)b/", "ab", true],
    ["/\\Qa.b\\E/", "axb", false],
    ["/\\Qa.b\\E/", "a.b", true],
    ["/[]a]/", "]", true],
    ["/[^]a]/", "a", false],
    ["/[[:digit:]]+/", "42", true],
    ["/\\e/", "\x1b", true],
    ["/a\\hb/", "a\tb", true],
    ["/a\\Rb/", "a\r\nb", true],
  ];
  for (const [pattern, subject, expected] of table) {
    await t.step(`${pattern} on ${JSON.stringify(subject)} is ${expected}`, () => {
      assert.equal(pregMatch(pattern, subject), expected);
    });
  }
  await t.step("$ matches before a final newline unless D is given", () => {
    assert.equal(pregMatch("/abc$/", "abc\n"), true);
    assert.equal(pregMatch("/abc$/D", "abc\n"), false);
    assert.equal(pregMatch("/abc\\Z/", "abc\n"), true);
    assert.equal(pregMatch("/abc\\z/", "abc\n"), false);
    assert.equal(pregMatch("/abc$/", "abc\n\n"), false);
  });
});

Deno.test("compileRegex() refuses what PHP rejects", async (t) => {
  const table: [string, string][] = [
    ["", "the pattern is empty"],
    ["abc", "the delimiter must not be alphanumeric, a backslash or NUL"],
    ["\\a\\", "the delimiter must not be alphanumeric, a backslash or NUL"],
    ["/abc", 'no ending delimiter "/" found'],
    ["(abc", 'no ending delimiter ")" found'],
    ["/a/b/i", 'unknown modifier "b"'],
    ["/a/e", "the /e modifier is no longer supported"],
    ["/a/Q", 'unknown modifier "Q"'],
  ];
  for (const [pattern, detail] of table) {
    await t.step(`${JSON.stringify(pattern)}: ${detail}`, () => {
      const error = refusal(pattern);
      assert.equal(error.reason, "invalid");
      assert.equal(error.message, `Cannot use regex "${pattern}": ${detail}`);
    });
  }
  await t.step("an unbalanced group is invalid, with RE2's reason as the detail", () => {
    const error = refusal("/(a/");
    assert.equal(error.reason, "invalid");
    assert.match(error.message, /^Cannot use regex "\/\(a\/": .*missing closing \)/);
  });
  await t.step("errata 9: a regex cut at ] by the condition grammar is invalid", () => {
    assert.equal(refusal("/a").reason, "invalid");
  });
});

Deno.test("compileRegex() refuses PCRE-only syntax with a clear reason", async (t) => {
  const table: [string, string][] = [
    ["/(a)\\1/", "backreferences"],
    ["/(?<n>a)\\k<n>/", "backreferences"],
    ["/(a)\\g1/", "backreferences"],
    ["/(?P<n>a)(?P=n)/", "backreferences"],
    ["/a(?=b)/", "lookahead assertions"],
    ["/a(?!b)/", "lookahead assertions"],
    ["/(?>a+)b/", "atomic groups"],
    ["/a++b/", "possessive quantifiers"],
    ["/a{2}+b/", "possessive quantifiers"],
    ["/(?|a|b)/", "branch-reset groups"],
    ["/(?(1)a|b)/", "conditional groups"],
    ["/a(?R)?b/", "recursive patterns and subroutine calls"],
  ];
  for (const [pattern, what] of table) {
    await t.step(`${pattern}: ${what}`, () => {
      const error = refusal(pattern);
      assert.equal(error.reason, "unsupported");
      assert.equal(
        error.message,
        `Cannot use regex "${pattern}": ${what} are not supported by the linear-time engine`,
      );
    });
  }
  await t.step(
    "lazy quantifiers and + after a literal are not mistaken for possessive ones",
    () => {
      assert.equal(pregMatch("/a+?b/", "aab"), true);
      assert.equal(pregMatch("/a?b+/", "bb"), true);
      assert.equal(pregMatch("/[+]+/", "+"), true);
    },
  );
});

Deno.test("compileRegex() enforces MAX_REGEX_LENGTH", () => {
  const pattern = `/${"a".repeat(MAX_REGEX_LENGTH)}/`;
  const error = refusal(pattern);
  assert.equal(error.reason, "too-long");
  assert.match(error.message, new RegExp(`more than the limit of ${MAX_REGEX_LENGTH}`));
  assert.equal(pregMatch(`/${"a".repeat(MAX_REGEX_LENGTH - 2)}/`, "a".repeat(2_000)), true);
});

Deno.test("compileRegex() caches compiled patterns and refusals", () => {
  assert.equal(compileRegex("/cache-me/"), compileRegex("/cache-me/"));
  assert.equal(refusal("/(x)\\1/"), refusal("/(x)\\1/"));
});

Deno.test("compileRegex() runs catastrophic patterns in linear time", () => {
  // (a+)+$ backtracks exponentially in PCRE; RE2 answers at once.
  assert.equal(pregMatch("/^(a+)+$/", "a".repeat(50_000) + "!"), false);
});
