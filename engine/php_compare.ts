/**
 * PHP 8 value semantics on JSON values: `is_numeric`, loose `==`, `<=>`, `empty()` and
 * truthiness, so conditions decide exactly as MISP's PHP does.
 *
 * A JS array and a plain object both stand for a PHP array; `undefined` stands for `null`. JS
 * numbers that are integers in the safe range count as PHP ints, every other number as a float.
 *
 * @module
 */

/** A PHP array as decoded from JSON: a list or a map with string keys. */
export type PhpArray = readonly unknown[] | Readonly<Record<string, unknown>>;

/** Whitespace PHP's numeric-string parser skips: space, \t, \n, \v, \f, \r. */
const NUMERIC_STRING =
  /^[ \t\n\v\f\r]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[ \t\n\v\f\r]*$/;
const INTEGER_STRING = /^[ \t\n\v\f\r]*([+-]?)0*(\d+)[ \t\n\v\f\r]*$/;
const CHAR_CODE_ZERO = 48;
const CHAR_CODE_NINE = 57;
const INT64_MAX = 9_223_372_036_854_775_807n;
const INT64_MIN = -9_223_372_036_854_775_808n;
const INT64_LIMIT = 2 ** 63;
const PHP_FLOAT_PRECISION = 14;
/** Longest digit run that always fits a double exactly; longer integer strings go through BigInt. */
const SAFE_INTEGER_DIGITS = 15;

/** Tells whether a value is a PHP array (a JS array or a plain object). */
export function isPhpArray(value: unknown): value is PhpArray {
  return typeof value === "object" && value !== null;
}

/**
 * PHP 8 `is_numeric` for strings: optional surrounding whitespace, sign, digits with an optional
 * fraction (`"1."`, `".5"`) and exponent; never hex, `"1_000"`, `"INF"` or `""`.
 */
export function isNumericString(value: string): boolean {
  // Every numeric string starts with whitespace, a sign, a dot or a digit, all at or below "9".
  if (value.length === 0 || value.charCodeAt(0) > CHAR_CODE_NINE) return false;
  return NUMERIC_STRING.test(value);
}

/** PHP 8 `is_numeric` for any value: numbers and numeric strings. */
export function isNumeric(value: unknown): boolean {
  if (typeof value === "number") return true;
  return typeof value === "string" && isNumericString(value);
}

/** A parsed numeric string: an int (exact, as BigInt when large), or a float. */
interface PhpNumber {
  readonly isInt: boolean;
  readonly value: number;
  readonly big?: bigint;
  /** 1 or -1 when an integer-looking string overflowed int64 (PHP's `oflow`), else 0. */
  readonly overflow: 0 | 1 | -1;
}

function parseNumericString(text: string): PhpNumber | undefined {
  if (isShortDigitRun(text)) return { isInt: true, value: Number(text), overflow: 0 };
  if (!isNumericString(text)) return undefined;
  const integer = INTEGER_STRING.exec(text);
  if (integer === null) return { isInt: false, value: Number(text), overflow: 0 };
  const digits = integer[2] as string;
  if (digits.length <= SAFE_INTEGER_DIGITS) {
    return { isInt: true, value: Number(text), overflow: 0 };
  }
  const big = BigInt(integer[1] + digits);
  if (big > INT64_MAX) return { isInt: false, value: Number(big), overflow: 1 };
  if (big < INT64_MIN) return { isInt: false, value: Number(big), overflow: -1 };
  return { isInt: true, value: Number(big), big, overflow: 0 };
}

/** The common case (ids, distributions, counts) without a regex: 1 to 15 ASCII digits. */
function isShortDigitRun(text: string): boolean {
  const length = text.length;
  if (length === 0 || length > SAFE_INTEGER_DIGITS) return false;
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index);
    if (code < CHAR_CODE_ZERO || code > CHAR_CODE_NINE) return false;
  }
  return true;
}

function isIntNumber(value: number): boolean {
  return Number.isSafeInteger(value);
}

/** Integral JS numbers within int64 stand for PHP ints, as JSON integer literals decode. */
function isInt64Number(value: number): boolean {
  return Number.isInteger(value) && value >= -INT64_LIMIT && value < INT64_LIMIT;
}

/**
 * PHP's string form of a number: ints in decimal, floats with `precision=14` (`0.1 + 0.2` is
 * `"0.3"`, `1e20` is `"1.0E+20"`), as `(string)`, string comparison and `preg_match` use it.
 */
export function phpNumberToString(value: number): string {
  if (isIntNumber(value)) return String(value);
  if (isInt64Number(value)) return BigInt(value).toString();
  if (Number.isNaN(value)) return "NAN";
  if (!Number.isFinite(value)) return value > 0 ? "INF" : "-INF";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const [mantissa, exponentText] = value.toExponential(PHP_FLOAT_PRECISION - 1).split("e") as [
    string,
    string,
  ];
  const sign = value < 0 ? "-" : "";
  const digits = mantissa.replace("-", "").replace(".", "").replace(/0+$/, "");
  const exponent = Number(exponentText);
  const point = exponent + 1;
  if (point < -3 || point > PHP_FLOAT_PRECISION) {
    const fraction = digits.length > 1 ? digits.slice(1) : "0";
    return `${sign}${digits[0]}.${fraction}E${exponent < 0 ? "-" : "+"}${Math.abs(exponent)}`;
  }
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (digits.length <= point) return sign + digits + "0".repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * PHP's string conversion of a scalar (`(string)$v`): `true` is `"1"`, `false` and `null` are
 * `""`, numbers as {@link phpNumberToString}; arrays have no string form and give `undefined`.
 */
export function toPhpString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number") return phpNumberToString(value);
  if (typeof value === "boolean") return value ? "1" : "";
  if (value === null || value === undefined) return "";
  return undefined;
}

/** PHP truthiness (`(bool)$v`): false for `false`, `null`, `0`, `0.0`, `""`, `"0"` and `[]`. */
export function toPhpBool(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  switch (typeof value) {
    case "boolean":
      return value;
    case "number":
      return value !== 0;
    case "string":
      return value !== "" && value !== "0";
    case "object":
      return Array.isArray(value) ? value.length > 0 : hasAnyKey(value);
    default:
      return true;
  }
}

/** PHP `empty($v)` on an existing value: the negation of {@link toPhpBool}. */
export function phpEmpty(value: unknown): boolean {
  return !toPhpBool(value);
}

function hasAnyKey(value: object): boolean {
  for (const key in value) {
    if (Object.hasOwn(value, key)) return true;
  }
  return false;
}

function sign(difference: number): -1 | 0 | 1 {
  return difference > 0 ? 1 : difference < 0 ? -1 : 0;
}

/** PHP's ZEND_THREEWAY_COMPARE on doubles: NaN compares as greater. */
function compareDoubles(a: number, b: number): -1 | 0 | 1 {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** `zend_binary_strcmp`: byte order of the UTF-8 encodings, which is code point order. */
function compareStrings(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const left = a.charCodeAt(index);
    const right = b.charCodeAt(index);
    if (left === right) continue;
    // Below the surrogate range UTF-16 order equals code point order.
    if (left < 0xd800 && right < 0xd800) return left < right ? -1 : 1;
    const leftPoint = a.codePointAt(index) as number;
    const rightPoint = b.codePointAt(index) as number;
    return leftPoint < rightPoint ? -1 : 1;
  }
  return sign(a.length - b.length);
}

/** `zendi_smart_strcmp`: two strings, numerically when both are numeric. */
function compareTwoStrings(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const left = parseNumericString(a);
  const right = left === undefined ? undefined : parseNumericString(b);
  if (left === undefined || right === undefined) return compareStrings(a, b);
  if (left.overflow !== 0 && left.overflow === right.overflow && left.value - right.value === 0) {
    return compareStrings(a, b);
  }
  if (!left.isInt || !right.isInt) {
    if (left.isInt && right.overflow !== 0) return right.overflow === 1 ? -1 : 1;
    if (right.isInt && left.overflow !== 0) return left.overflow;
    if (!left.isInt && !right.isInt && left.value === right.value && !Number.isFinite(left.value)) {
      return compareStrings(a, b);
    }
    return sign(left.value - right.value);
  }
  if (left.big !== undefined || right.big !== undefined) {
    const leftBig = left.big ?? BigInt(left.value);
    const rightBig = right.big ?? BigInt(right.value);
    return leftBig === rightBig ? 0 : leftBig < rightBig ? -1 : 1;
  }
  return sign(left.value - right.value);
}

/** `compare_longs_to_string` / `compare_doubles_to_string`: a number against a string. */
function compareNumberToString(number: number, text: string): -1 | 0 | 1 {
  if (Number.isNaN(number)) return 1;
  const parsed = parseNumericString(text);
  if (parsed === undefined) return compareStrings(phpNumberToString(number), text);
  if (parsed.big !== undefined && isIntNumber(number)) {
    const big = BigInt(number);
    return big === parsed.big ? 0 : big < parsed.big ? -1 : 1;
  }
  return compareDoubles(number, parsed.value);
}

function arrayEntries(value: PhpArray): Map<string, unknown> {
  const entries = new Map<string, unknown>();
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) entries.set(String(index), value[index]);
  } else {
    for (const key of Object.keys(value)) entries.set(key, (value as Record<string, unknown>)[key]);
  }
  return entries;
}

function arrayCount(value: PhpArray): number {
  return Array.isArray(value) ? value.length : Object.keys(value).length;
}

/** `zend_compare_arrays`: count first, then each key of `a` in order looked up in `b`. */
function compareArrays(a: PhpArray, b: PhpArray): -1 | 0 | 1 {
  if (a === b) return 0;
  const countDifference = arrayCount(a) - arrayCount(b);
  if (countDifference !== 0) return sign(countDifference);
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let index = 0; index < a.length; index++) {
      const result = looseCompare(a[index], b[index]);
      if (result !== 0) return result;
    }
    return 0;
  }
  const right = arrayEntries(b);
  for (const [key, value] of arrayEntries(a)) {
    if (!right.has(key)) return 1;
    const result = looseCompare(value, right.get(key));
    if (result !== 0) return result;
  }
  return 0;
}

/**
 * PHP 8 `$a <=> $b` on JSON values: numbers and numeric strings numerically, other strings
 * bytewise, `null` as `""` against strings and as a bool against the rest, bools against
 * anything as bools, arrays by count then key by key and above every other scalar. Use
 * `looseCompare(b, a) < 0` for PHP's `$a > $b`, which PHP evaluates as `$b < $a`.
 */
export function looseCompare(a: unknown, b: unknown): -1 | 0 | 1 {
  const left = a === undefined ? null : a;
  const right = b === undefined ? null : b;
  const leftType = typeof left;
  const rightType = typeof right;
  if (leftType === "string" && rightType === "string") {
    return compareTwoStrings(left as string, right as string);
  }
  if (leftType === "number" && rightType === "number") {
    return compareDoubles(left as number, right as number);
  }
  if (leftType === "number" && rightType === "string") {
    return compareNumberToString(left as number, right as string);
  }
  if (leftType === "string" && rightType === "number") {
    if (Number.isNaN(right)) return 1;
    return (-compareNumberToString(right as number, left as string) || 0) as -1 | 0 | 1;
  }
  if (left === null && rightType === "string") return (right as string).length === 0 ? 0 : -1;
  if (leftType === "string" && right === null) return (left as string).length === 0 ? 0 : 1;
  if (isPhpArray(left) && isPhpArray(right)) return compareArrays(left, right);
  if (left === null || left === false) return toPhpBool(right) ? -1 : 0;
  if (left === true) return toPhpBool(right) ? 0 : 1;
  if (right === null || right === false) return toPhpBool(left) ? 1 : 0;
  if (right === true) return toPhpBool(left) ? 0 : -1;
  // What is left pairs an array with a number or a string: the array is greater.
  return isPhpArray(left) ? 1 : -1;
}

function arraysLooseEqual(a: PhpArray, b: PhpArray): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let index = 0; index < a.length; index++) {
      if (!looseEquals(a[index], b[index])) return false;
    }
    return true;
  }
  if (arrayCount(a) !== arrayCount(b)) return false;
  const right = arrayEntries(b);
  for (const [key, value] of arrayEntries(a)) {
    if (!right.has(key) || !looseEquals(value, right.get(key))) return false;
  }
  return true;
}

/**
 * PHP 8 `$a == $b` on JSON values, as `in_array`, `==` and Hash conditions use it: `"1" == "01"`,
 * `" 1" == 1`, `0 == "a"` is false, `true == "abc"`, `null == ""`, `[] == false`, and arrays
 * equal when they hold the same keys with loosely equal values.
 */
export function looseEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const left = a === undefined ? null : a;
  const right = b === undefined ? null : b;
  if (typeof left === "string" && typeof right === "string") {
    // Both numeric strings start at or below "9"; otherwise only identity could make them equal.
    if (left.charCodeAt(0) > CHAR_CODE_NINE || right.charCodeAt(0) > CHAR_CODE_NINE) return false;
    return compareTwoStrings(left, right) === 0;
  }
  if (typeof left === "boolean") return left === toPhpBool(right);
  if (typeof right === "boolean") return right === toPhpBool(left);
  if (left === null && right === null) return true;
  if (isPhpArray(left) && isPhpArray(right)) return arraysLooseEqual(left, right);
  if (Number.isNaN(left) || Number.isNaN(right)) return false;
  return looseCompare(left, right) === 0;
}

/** PHP `in_array($value, $list)` with loose `==`, over a list's values or a map's values. */
export function inArrayLoose(list: PhpArray, value: unknown): boolean {
  if (Array.isArray(list)) {
    for (let index = 0; index < list.length; index++) {
      if (looseEquals(list[index], value)) return true;
    }
    return false;
  }
  for (const key of Object.keys(list)) {
    if (looseEquals((list as Record<string, unknown>)[key], value)) return true;
  }
  return false;
}

/** The values of a PHP array in order (`array_values`), without copying a list. */
export function phpValues(value: PhpArray): readonly unknown[] {
  return Array.isArray(value) ? value : Object.values(value);
}
