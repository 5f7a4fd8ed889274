/**
 * PCRE patterns as PHP's `preg_match` receives them (`/pattern/flags`), run on the linear-time
 * RE2 engine so a user-supplied regex can never hang a verdict.
 *
 * @module
 */

import { RE2JS } from "re2js";
import { MAX_REGEX_LENGTH, REGEX_CACHE_SIZE } from "./limits.ts";

/** Why a pattern cannot be used. */
export type RegexErrorReason = "invalid" | "unsupported" | "too-long";

/** A pattern PHP would reject, or one the linear-time engine cannot run. */
export class RegexError extends SyntaxError {
  /** The pattern as given, delimiters and flags included. */
  readonly pattern: string;
  /** `invalid` (PHP warns and does not match), `unsupported` (PCRE-only syntax) or `too-long`. */
  readonly reason: RegexErrorReason;

  /** Builds the error; the message names the pattern and the problem. */
  constructor(pattern: string, reason: RegexErrorReason, detail: string, options?: ErrorOptions) {
    super(`Cannot use regex "${pattern}": ${detail}`, options);
    this.name = "RegexError";
    this.pattern = pattern;
    this.reason = reason;
  }
}

/** A compiled pattern: `test` answers what `preg_match` would, as a boolean. */
export interface CompiledRegex {
  /** The pattern as given, delimiters and flags included. */
  readonly source: string;
  /** Tells whether the pattern matches anywhere in `subject`. */
  test(subject: string): boolean;
  /** The linear-time matcher itself, for callers that need more than a boolean (`replace`). */
  readonly re2: RE2JS;
}

const BRACKET_DELIMITERS: Readonly<Record<string, string>> = {
  "(": ")",
  "[": "]",
  "{": "}",
  "<": ">",
};
const PHP_SPACE = /[ \t\n\v\f\r]/;
const ALPHANUMERIC = /[A-Za-z0-9]/;
const PCRE_EXTENDED_SPACE = /[ \t\n\v\f\r]/;
const NOT_SUPPORTED = "are not supported by the linear-time engine";
const HORIZONTAL_SPACE =
  "\\t \\x{A0}\\x{1680}\\x{180E}\\x{2000}-\\x{200A}\\x{202F}\\x{205F}\\x{3000}";
const VERTICAL_SPACE = "\\n\\x0B\\f\\r\\x{85}\\x{2028}\\x{2029}";

/** Modifiers PHP accepts and how they change the translation. */
interface Modifiers {
  flags: number;
  extended: boolean;
  dollarEndOnly: boolean;
  anchored: boolean;
  ungreedy: boolean;
}

const cache = new Map<string, CompiledRegex | RegexError>();

/**
 * Compiles a PHP regex literal (`/pattern/flags`, any delimiter PHP accepts) into a linear-time
 * matcher; results and failures are cached by source.
 *
 * Flags `i`, `m`, `s`, `x`, `U`, `D`, `A` are honoured; `u`, `S`, `X`, `J`, `n` change nothing a
 * boolean match can see. `$` keeps PCRE's meaning (end, or before a final newline).
 *
 * @throws {RegexError} when PHP would reject the pattern, when it uses PCRE-only syntax
 * (backreferences, lookahead, atomic groups, possessive quantifiers, recursion, conditionals), or
 * when it is longer than `MAX_REGEX_LENGTH`.
 */
export function compileRegex(source: string): CompiledRegex {
  // Checked before the cache so an oversized pattern never becomes a cache key.
  if (source.length > MAX_REGEX_LENGTH) {
    throw new RegexError(
      source.slice(0, 40) + "…",
      "too-long",
      `the pattern has ${source.length} characters, more than the limit of ${MAX_REGEX_LENGTH}`,
    );
  }
  const cached = cache.get(source);
  if (cached instanceof RegexError) throw cached;
  if (cached !== undefined) return cached;
  let result: CompiledRegex | RegexError;
  try {
    result = compileUncached(source);
  } catch (error) {
    if (!(error instanceof RegexError)) throw error;
    result = error;
  }
  if (cache.size >= REGEX_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(source, result);
  if (result instanceof RegexError) throw result;
  return result;
}

/**
 * `preg_match(source, subject) === 1`.
 *
 * @throws {RegexError} as {@link compileRegex}.
 */
export function pregMatch(source: string, subject: string): boolean {
  return compileRegex(source).test(subject);
}

function compileUncached(source: string): CompiledRegex {
  const { body, modifiers } = splitDelimiters(source);
  let translated = translate(source, body, modifiers);
  if (modifiers.anchored) translated = `\\A(?:${translated})`;
  if (modifiers.ungreedy) translated = `(?U)${translated}`;
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(translated, modifiers.flags | RE2JS.LOOKBEHINDS);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new RegexError(source, "invalid", detail, { cause: error });
  }
  return { source, re2: compiled, test: (subject) => compiled.test(subject) };
}

/** PHP's `pcre_get_compiled_regex_cache` front part: delimiters, then modifiers. */
function splitDelimiters(source: string): { body: string; modifiers: Modifiers } {
  let start = 0;
  while (start < source.length && PHP_SPACE.test(source[start] as string)) start++;
  const delimiter = source[start];
  if (delimiter === undefined) throw new RegexError(source, "invalid", "the pattern is empty");
  if (ALPHANUMERIC.test(delimiter) || delimiter === "\\" || delimiter === "\0") {
    throw new RegexError(
      source,
      "invalid",
      "the delimiter must not be alphanumeric, a backslash or NUL",
    );
  }
  const closing = BRACKET_DELIMITERS[delimiter] ?? delimiter;
  let depth = 1;
  let end = start + 1;
  for (; end < source.length; end++) {
    const char = source[end];
    if (char === "\\" && end + 1 < source.length) {
      end++;
    } else if (char === closing && --depth <= 0) {
      break;
    } else if (char === delimiter && closing !== delimiter) {
      depth++;
    }
  }
  if (end >= source.length) {
    throw new RegexError(source, "invalid", `no ending delimiter "${closing}" found`);
  }
  return { body: source.slice(start + 1, end), modifiers: parseModifiers(source, end + 1) };
}

function parseModifiers(source: string, from: number): Modifiers {
  const modifiers: Modifiers = {
    flags: 0,
    extended: false,
    dollarEndOnly: false,
    anchored: false,
    ungreedy: false,
  };
  for (const modifier of source.slice(from)) {
    switch (modifier) {
      case "i":
        modifiers.flags |= RE2JS.CASE_INSENSITIVE;
        break;
      case "m":
        modifiers.flags |= RE2JS.MULTILINE;
        break;
      case "s":
        modifiers.flags |= RE2JS.DOTALL;
        break;
      case "x":
        modifiers.extended = true;
        break;
      case "D":
        modifiers.dollarEndOnly = true;
        break;
      case "A":
        modifiers.anchored = true;
        break;
      case "U":
        modifiers.ungreedy = true;
        break;
      case "u":
      case "S":
      case "X":
      case "J":
      case "n":
      case " ":
      case "\n":
      case "\r":
        break;
      case "e":
        throw new RegexError(source, "invalid", "the /e modifier is no longer supported");
      default:
        throw new RegexError(source, "invalid", `unknown modifier "${modifier}"`);
    }
  }
  return modifiers;
}

/**
 * Rewrites PCRE syntax into RE2 syntax: `$`, `\Z`, `\e`, `\h`, `\v`, `\R`, `(?#…)`, `(?'n'…)` and
 * extended mode; refuses what RE2 cannot run with a message naming the construct.
 */
function translate(source: string, body: string, modifiers: Modifiers): string {
  const multiline = (modifiers.flags & RE2JS.MULTILINE) !== 0;
  const unsupported = (what: string): never => {
    throw new RegexError(source, "unsupported", `${what} ${NOT_SUPPORTED}`);
  };
  let out = "";
  let inClass = false;
  let classStart = false;
  let quantified = false;
  for (let index = 0; index < body.length; index++) {
    const char = body[index] as string;
    const next = body[index + 1];
    if (char === "\\") {
      if (next === undefined) throw new RegexError(source, "invalid", "the pattern ends with \\");
      index++;
      classStart = false;
      if (next === "Q") {
        const stop = body.indexOf("\\E", index + 1);
        const literal = stop === -1 ? body.slice(index + 1) : body.slice(index + 1, stop);
        out += RE2JS.quote(literal);
        index = stop === -1 ? body.length : stop + 1;
        quantified = false;
        continue;
      }
      out += translateEscape(next, inClass, unsupported);
      quantified = false;
      continue;
    }
    if (inClass) {
      if (char === "]" && !classStart) inClass = false;
      if (char === "[" && next === ":") {
        const stop = body.indexOf(":]", index + 2);
        if (stop !== -1) {
          out += body.slice(index, stop + 2);
          index = stop + 1;
          classStart = false;
          continue;
        }
      }
      classStart = classStart && char === "^";
      out += char;
      continue;
    }
    if (modifiers.extended && PCRE_EXTENDED_SPACE.test(char)) continue;
    if (modifiers.extended && char === "#") {
      const stop = body.indexOf("\n", index);
      index = stop === -1 ? body.length : stop;
      continue;
    }
    if (char === "+" && quantified) unsupported("possessive quantifiers");
    if (char === "[") {
      inClass = true;
      classStart = true;
      quantified = false;
      out += char;
      continue;
    }
    if (char === "(" && next === "?") {
      const group = translateGroup(body, index, unsupported);
      out += group.text;
      index = group.end;
      quantified = false;
      continue;
    }
    if (char === "$") {
      out += multiline ? "$" : modifiers.dollarEndOnly ? "\\z" : "(?:\\n?\\z)";
      quantified = false;
      continue;
    }
    if (char === "{") {
      const counted = /^\{\d+(?:,\d*)?\}/.exec(body.slice(index));
      if (counted !== null) {
        out += counted[0];
        index += counted[0].length - 1;
        quantified = true;
        continue;
      }
    }
    // A quantifier may be followed by "?" (lazy) once; "+" after it would be possessive.
    quantified = (char === "*" || char === "+" || char === "?") && !quantified;
    out += char;
  }
  return out;
}

function translateEscape(
  char: string,
  inClass: boolean,
  unsupported: (what: string) => never,
): string {
  if (!inClass && char >= "1" && char <= "9") unsupported("backreferences");
  switch (char) {
    case "g":
    case "k":
      return unsupported("backreferences");
    case "Z":
      return inClass ? "Z" : "(?:\\n?\\z)";
    case "e":
      return "\\x1B";
    case "h":
      return inClass ? HORIZONTAL_SPACE : `[${HORIZONTAL_SPACE}]`;
    case "v":
      return inClass ? VERTICAL_SPACE : `[${VERTICAL_SPACE}]`;
    case "R":
      return inClass ? "R" : `(?:\\r\\n|[${VERTICAL_SPACE}])`;
    default:
      return `\\${char}`;
  }
}

/** Translates a `(?…` group opener starting at `index`; returns the text and the last index. */
function translateGroup(
  body: string,
  index: number,
  unsupported: (what: string) => never,
): { text: string; end: number } {
  const rest = body.slice(index + 2, index + 4);
  const kind = rest[0];
  if (kind === "=" || kind === "!") unsupported("lookahead assertions");
  if (kind === "<" && (rest[1] === "=" || rest[1] === "!")) return { text: "(?<", end: index + 2 };
  if (kind === ">") unsupported("atomic groups");
  if (kind === "|") unsupported("branch-reset groups");
  if (kind === "(") unsupported("conditional groups");
  if (kind === "R" || kind === "&" || (kind !== undefined && /[0-9+-]/.test(kind))) {
    unsupported("recursive patterns and subroutine calls");
  }
  if (kind === "P" && (rest[1] === "=" || rest[1] === ">")) {
    unsupported(rest[1] === "=" ? "backreferences" : "recursive patterns and subroutine calls");
  }
  if (kind === "#") {
    const stop = body.indexOf(")", index);
    return { text: "", end: stop === -1 ? body.length : stop };
  }
  if (kind === "'") {
    const stop = body.indexOf("'", index + 3);
    if (stop !== -1) return { text: `(?P<${body.slice(index + 3, stop)}>`, end: stop };
  }
  return { text: "(?", end: index + 1 };
}
