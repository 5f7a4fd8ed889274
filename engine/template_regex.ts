/**
 * Regex literals in templates (`r/pattern/flags`) run on the linear-time engine of
 * `engine/regex.ts` (RE2), never on JavaScript's backtracking one, so `replace(r/^(a+)+$/, …)`
 * cannot freeze a verdict. Patterns RE2 cannot run (backreferences, lookahead) are refused when
 * the template compiles.
 *
 * @module
 */

import { type CompiledRegex, compileRegex, RegexError } from "./regex.ts";
import type { RenderBudget } from "./template_budget.ts";

/** Matches handled between two deadline checks. */
const MATCHES_PER_TICK = 1_024;

/**
 * Compiles the body and flags of a template regex literal. Flags `g` (replace every match), `i`
 * and `m` are honoured; `$` means the end of the text, as in JavaScript.
 *
 * @throws {RegexError} when the pattern uses what RE2 cannot run, or the sticky flag `y`
 */
export function compileTemplateRegex(source: string, flags: string): TemplateRegex {
  const literal = `r/${source}/${flags}`;
  if (flags.includes("y")) {
    throw new RegexError(literal, "unsupported", 'the sticky flag "y" is not supported');
  }
  // PCRE's D modifier gives `$` JavaScript's meaning (end of text only, not before a final \n).
  const pcre = `/${source}/D${flags.includes("i") ? "i" : ""}${flags.includes("m") ? "m" : ""}`;
  try {
    return new TemplateRegex(literal, compileRegex(pcre), flags.includes("g"));
  } catch (error) {
    if (!(error instanceof RegexError)) throw error;
    const prefix = `Cannot use regex "${error.pattern}": `;
    const detail = error.message.startsWith(prefix)
      ? error.message.slice(prefix.length)
      : error.message;
    throw new RegexError(literal, error.reason, detail, { cause: error });
  }
}

/** A compiled template regex literal; prints as its literal, serialises as `{}` like a RegExp. */
export class TemplateRegex {
  readonly #literal: string;
  readonly #compiled: CompiledRegex;
  readonly #global: boolean;

  /** Wraps a compiled pattern; `global` replaces every match instead of the first. */
  constructor(literal: string, compiled: CompiledRegex, global: boolean) {
    this.#literal = literal;
    this.#compiled = compiled;
    this.#global = global;
  }

  /** The literal as written in the template. */
  toString(): string {
    return this.#literal;
  }

  /**
   * `text.replace(regex, replacement)` with JavaScript's `$&`, `$1`, `$<name>`, `` $` ``, `$'` and
   * `$$`, on RE2. Each replacement's length is computed before it is built, so the result never
   * passes the budget's string cap.
   *
   * @throws {TemplateLimitError} when the result would be too long, or time is up
   */
  replace(text: string, replacement: string, budget: RenderBudget, what: string): string {
    const re2 = this.#compiled.re2;
    const groupCount = re2.groupCount();
    const named = re2.namedGroups();
    const tokens = parseReplacement(replacement, groupCount, Object.keys(named).length > 0);
    let grown = 0;
    let matches = 0;
    const replacer = (...args: unknown[]): string => {
      if (++matches % MATCHES_PER_TICK === 0) budget.tick();
      const match = args[0] as string;
      const position = args[groupCount + 1] as number;
      const groups = args.slice(1, groupCount + 1) as (string | null | undefined)[];
      const namedValues = (args[groupCount + 3] ?? {}) as Record<string, string | null | undefined>;
      const part = (token: Token): string => {
        switch (token.kind) {
          case "text":
            return token.text;
          case "match":
            return match;
          case "before":
            return text.slice(0, position);
          case "after":
            return text.slice(position + match.length);
          case "group":
            return groups[token.index - 1] ?? "";
          case "named":
            return namedValues[token.name] ?? "";
        }
      };
      let length = 0;
      for (const token of tokens) {
        length += token.kind === "before"
          ? position
          : token.kind === "after"
          ? text.length - position - match.length
          : part(token).length;
      }
      grown += length - match.length;
      budget.ensureBuildable(what, text.length + grown, { inputLength: text.length });
      return tokens.map(part).join("");
    };
    const matcher = re2.matcher(text);
    return this.#global ? matcher.replaceAll(replacer) : matcher.replaceFirst(replacer);
  }
}

type Token =
  | { kind: "text"; text: string }
  | { kind: "match" | "before" | "after" }
  | { kind: "group"; index: number }
  | { kind: "named"; name: string };

/** Splits a replacement into literal text and references, as JavaScript's GetSubstitution. */
function parseReplacement(replacement: string, groupCount: number, hasNamed: boolean): Token[] {
  const tokens: Token[] = [];
  let text = "";
  const flush = (): void => {
    if (text !== "") tokens.push({ kind: "text", text });
    text = "";
  };
  for (let index = 0; index < replacement.length; index++) {
    const char = replacement[index] as string;
    const next = replacement[index + 1];
    if (char !== "$" || next === undefined) {
      text += char;
      continue;
    }
    if (next === "$") {
      text += "$";
      index++;
    } else if (next === "&" || next === "`" || next === "'") {
      flush();
      tokens.push({ kind: next === "&" ? "match" : next === "`" ? "before" : "after" });
      index++;
    } else if (next >= "0" && next <= "9") {
      const two = Number(replacement.slice(index + 1, index + 3));
      const one = Number(next);
      const hasTwoDigits = /^[0-9]{2}$/.test(replacement.slice(index + 1, index + 3));
      if (hasTwoDigits && two >= 1 && two <= groupCount) {
        flush();
        tokens.push({ kind: "group", index: two });
        index += 2;
      } else if (one >= 1 && one <= groupCount) {
        flush();
        tokens.push({ kind: "group", index: one });
        index++;
      } else {
        text += char;
      }
    } else if (next === "<" && hasNamed) {
      const close = replacement.indexOf(">", index + 2);
      if (close === -1) {
        text += char;
      } else {
        flush();
        tokens.push({ kind: "named", name: replacement.slice(index + 2, close) });
        index = close;
      }
    } else {
      text += char;
    }
  }
  flush();
  return tokens;
}
