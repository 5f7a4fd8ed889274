import assert from "node:assert/strict";
import fc from "fast-check";
import {
  inArrayLoose,
  isNumericString,
  looseCompare,
  looseEquals,
  phpEmpty,
  phpNumberToString,
  toPhpBool,
  toPhpString,
} from "../../engine/php_compare.ts";

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

Deno.test("isNumericString() follows PHP 8 is_numeric", async (t) => {
  const table: [string, boolean][] = [
    ["1", true],
    ["-1.5e-3", true],
    ["+.5", true],
    ["1e+5", true],
    ["1E5", true],
    ["00012", true],
    ["abc", false],
    ["", false],
    [" ", false],
    [".", false],
    ["1e", false],
    ["e1", false],
    ["--1", false],
    ["1 1", false],
    ["1.5.", false],
    ["INF", false],
    ["NAN", false],
    ["١", false],
  ];
  for (const [text, expected] of table) {
    await t.step(`${show(text)} is ${expected ? "" : "not "}numeric`, () => {
      assert.equal(isNumericString(text), expected);
    });
  }
  await t.step("errata 32: leading and trailing whitespace, 1., .5 and 1e0 are numeric", () => {
    for (const text of [" 1", "1 ", " 1 ", "\t1\n", "\v1\f", "\r1", "1.", ".5", "1e0"]) {
      assert.equal(isNumericString(text), true, show(text));
    }
  });
  await t.step("errata 32: hex and 1_000 are not numeric", () => {
    for (const text of ["0x1A", "0X1a", "1_000", "0b11", "1\u00a0"]) {
      assert.equal(isNumericString(text), false, show(text));
    }
  });
});

Deno.test("looseEquals() follows PHP 8 ==", async (t) => {
  const table: [unknown, unknown, boolean][] = [
    ["1", "01", true],
    ["10", "1e1", true],
    [100, "1e2", true],
    ["abc", "ABC", false],
    ["abc", "abc", true],
    [0, "a", false],
    ["a", 0, false],
    [1, "1abc", false],
    [0, "", false],
    ["0.0", 0, true],
    ["1e3", "1000", true],
    ["+1", "1", true],
    ["-0", "0", true],
    [1.5, "1.5", true],
    [1, 1.0, true],
    [null, false, true],
    [null, 0, true],
    [null, "0", false],
    [null, "", true],
    [null, [], true],
    [null, null, true],
    [undefined, null, true],
    [[], false, true],
    [[], 0, false],
    [[], "", false],
    [[1], true, true],
    ["0", false, true],
    ["", false, true],
    ["0.0", false, false],
    [[1, 2], [1, 2], true],
    [[1, 2], [2, 1], false],
    [[1, 2], [1, 2, 3], false],
    [{ a: 1, b: 2 }, { b: 2, a: 1 }, true],
    [{ a: 1 }, { b: 1 }, false],
    [[1], ["1"], true],
    [[0], [false], true],
    [["a", "b"], { "0": "a", "1": "b" }, true],
    [{ x: [1, "2"] }, { x: ["01", 2] }, true],
    ["0x1A", 26, false],
    ["1_000", 1000, false],
    [Number.NaN, Number.NaN, false],
  ];
  for (const [a, b, expected] of table) {
    await t.step(`${show(a)} == ${show(b)} is ${expected}`, () => {
      assert.equal(looseEquals(a, b), expected);
      assert.equal(looseEquals(b, a), expected, "symmetric");
    });
  }
  await t.step("errata 32: whitespace-padded numeric strings", () => {
    assert.equal(looseEquals(" 1", 1), true);
    assert.equal(looseEquals("1 ", "01"), true);
    assert.equal(looseEquals(".5", "0.5"), true);
    assert.equal(looseEquals("1.", 1), true);
  });
  await t.step("errata 33: true equals every non-empty string except 0", () => {
    for (const text of ["abc", "null", "0.0", "false", " "]) {
      assert.equal(looseEquals(true, text), true, show(text));
    }
    assert.equal(looseEquals(true, "0"), false);
    assert.equal(looseEquals(true, ""), false);
  });
  await t.step("errata 34: arrays equal false and null as bools", () => {
    assert.equal(looseEquals([], false), true);
    assert.equal(looseEquals([], null), true);
    assert.equal(looseEquals(["x"], null), false);
  });
  await t.step("errata 35: overflowing integer strings", () => {
    assert.equal(looseEquals("9223372036854775808", 9223372036854775807), true);
    assert.equal(looseEquals("9223372036854775807", "9223372036854775808"), false);
    assert.equal(looseEquals("9223372036854775808", "9223372036854775809"), false);
    assert.equal(looseEquals("9223372036854775808", "9223372036854775808.0"), true);
    assert.equal(looseEquals("1e1000", "2e1000"), false);
    assert.equal(looseEquals("9007199254740993", "9007199254740992"), false);
    assert.equal(looseEquals("9007199254740993", "09007199254740993"), true);
  });
});

Deno.test("looseCompare() follows PHP 8 <=>", async (t) => {
  const table: [unknown, unknown, -1 | 0 | 1][] = [
    ["10", "9", 1],
    ["10", "9a", -1],
    ["Z", "a", -1],
    ["abc", "abd", -1],
    ["ab", "abc", -1],
    ["1e1", "9", 1],
    [1, "abc", -1],
    [3, "2abc", 1],
    [3, "abc", -1],
    [0, "", 1],
    [1.5, "1.5", 0],
    [2, 10, -1],
    [null, "a", -1],
    [null, "", 0],
    [null, 0, 0],
    [null, -1, -1],
    [null, [], 0],
    [null, [1], -1],
    [true, "a", 0],
    [true, 2, 0],
    [false, "0", 0],
    [true, false, 1],
    [[], 0, 1],
    [[], "x", 1],
    [[], false, 0],
    [[1, 2], [1, 3], -1],
    [[1, 2, 3], [5], 1],
    [{ a: 1 }, { a: 1 }, 0],
    ["é", "z", 1],
    ["\u{1F600}", "\uFFFF", 1],
    ["9223372036854775807", "9223372036854775808", -1],
    ["9223372036854775808", "9223372036854775807", 1],
  ];
  for (const [a, b, expected] of table) {
    await t.step(`${show(a)} <=> ${show(b)} is ${expected}`, () => {
      assert.equal(looseCompare(a, b), expected);
      assert.equal(looseCompare(b, a), -expected || 0, "antisymmetric");
    });
  }
  await t.step("arrays with different keys are uncomparable and return 1 both ways", () => {
    assert.equal(looseCompare({ a: 1 }, { b: 1 }), 1);
    assert.equal(looseCompare({ b: 1 }, { a: 1 }), 1);
  });
  await t.step(
    "errata 34: null against a string is the empty string, against a number a bool",
    () => {
      assert.equal(looseCompare(null, "0"), -1);
      assert.equal(looseCompare(null, 5), -1);
      assert.equal(looseCompare("a", [1]), -1);
    },
  );
});

Deno.test("looseCompare() gives the orderings the errata rely on", async (t) => {
  const greater = (a: unknown, b: unknown) => looseCompare(b, a) < 0;
  const lessOrEqual = (a: unknown, b: unknown) => looseCompare(a, b) <= 0;
  await t.step("errata 25: numeric ids against 'Low' compare as strings", () => {
    for (const id of ["1", "2", "3", "4"]) {
      assert.equal(lessOrEqual(id, "Low"), true, id);
      assert.equal(looseEquals(id, "Low"), false, id);
    }
    assert.equal(lessOrEqual(null, "Low"), true);
  });
  await t.step("errata 26: 0 > '' and string fallbacks against counts", () => {
    assert.equal(greater(0, ""), true);
    assert.equal(greater(0, null), false);
    assert.equal(greater(3, "2abc"), true);
    assert.equal(looseCompare(3, "abc") < 0, true);
  });
});

Deno.test("toPhpBool() and phpEmpty() follow PHP truthiness", async (t) => {
  const table: [unknown, boolean][] = [
    ["", false],
    ["0", false],
    ["0.0", true],
    [" ", true],
    ["false", true],
    [0, false],
    [-0, false],
    [0.1, true],
    [Number.NaN, true],
    [[], false],
    [{}, false],
    [[0], true],
    [{ a: null }, true],
    [null, false],
    [undefined, false],
    [false, false],
    [true, true],
  ];
  for (const [value, truthy] of table) {
    await t.step(`${show(value)} is ${truthy ? "truthy" : "empty"}`, () => {
      assert.equal(toPhpBool(value), truthy);
      assert.equal(phpEmpty(value), !truthy);
    });
  }
  await t.step("errata 27: 'false', '0.0' and ['x'] are not empty", () => {
    for (const value of ["false", "0.0", ["x"]]) assert.equal(phpEmpty(value), false);
  });
});

Deno.test("inArrayLoose() is in_array with ==", () => {
  assert.equal(inArrayLoose(["1", "2"], 1), true);
  assert.equal(inArrayLoose(["abc"], 0), false);
  assert.equal(inArrayLoose({ a: "x", b: "tlp:red" }, "tlp:red"), true);
  assert.equal(inArrayLoose(["tlp:red"], true), true);
  assert.equal(inArrayLoose([], true), false);
  assert.equal(inArrayLoose([null], ""), true);
  // errata 28: under PHP 8, org 0 is not in ["abc"].
  assert.equal(inArrayLoose(["abc"], 0), false);
  assert.equal(inArrayLoose([1], "1"), true);
});

Deno.test("phpNumberToString() prints like PHP's (string) cast", async (t) => {
  const table: [number, string][] = [
    [1, "1"],
    [-42, "-42"],
    [1.5, "1.5"],
    [-2.5, "-2.5"],
    [0.1 + 0.2, "0.3"],
    [1e20, "1.0E+20"],
    [2 ** 60, "1152921504606846976"],
    [1e25, "1.0E+25"],
    [1.5e-7, "1.5E-7"],
    [0.0001, "0.0001"],
    [0.00001, "1.0E-5"],
    [123456789012345.67, "1.2345678901235E+14"],
    [Number.POSITIVE_INFINITY, "INF"],
    [Number.NaN, "NAN"],
  ];
  for (const [value, expected] of table) {
    await t.step(`${value} prints as ${expected}`, () => {
      assert.equal(phpNumberToString(value), expected);
    });
  }
  await t.step("toPhpString() casts scalars and refuses arrays", () => {
    assert.equal(toPhpString(true), "1");
    assert.equal(toPhpString(false), "");
    assert.equal(toPhpString(null), "");
    assert.equal(toPhpString([1]), undefined);
  });
});

const jsonValue = fc.letrec((tie) => ({
  scalar: fc.oneof(
    fc.constantFrom("", "0", "1", "01", " 1", "1e0", "abc", "0.0", "1.", ".5", "-0", "null"),
    fc.string({ maxLength: 4 }),
    fc.integer({ min: -3, max: 3 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
  ),
  value: fc.oneof(
    { depthSize: "small" },
    tie("scalar"),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("a", "b", "0"), tie("value"), { maxKeys: 2 }),
  ),
}));

Deno.test("looseEquals() is symmetric and agrees with looseCompare() on scalars", () => {
  fc.assert(
    fc.property(jsonValue.value, jsonValue.value, (a, b) => {
      assert.equal(looseEquals(a, b), looseEquals(b, a));
    }),
  );
  fc.assert(
    fc.property(jsonValue.scalar, jsonValue.scalar, (a, b) => {
      assert.equal(looseEquals(a, b), looseCompare(a, b) === 0);
      assert.equal(looseCompare(a, b), -looseCompare(b, a) || 0);
    }),
  );
});
