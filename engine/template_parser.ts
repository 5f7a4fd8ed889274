/**
 * Jinja2 syntax nunjucks' parser lacks, added to the templates Flowgate compiles (others are
 * parsed as before):
 * - numeric attribute lookups, `a.0.b` (Jinja's lexer reads `0` as an integer, so it is the item
 *   `a[0]`, as in MISP's curation blueprints' `__currentAttribute.enrichment.0.Object.0.Attribute`);
 *   nunjucks' lexer reads `0.` and `1.0` there as floats, which are split back into indexes;
 * - the Python literals `True`, `False` and `None`;
 * - a test with one argument and no parentheses, `x is divisibleby 3`, `x is sameas none`;
 * - loop filters, `{% for x in items if x.to_ids %}` (nunjucks would read an inline `if`), and
 *   a loop over a dict's keys, `{% for key in Event %}`;
 * - `{% set a, b = 1, 2 %}` (unpacking) and `{% set a = 1, 2 %}` (a tuple);
 * - `{% with a = 1 %}…{% endwith %}` blocks;
 * - slices, `items[1:3]`, `text[::-1]`.
 *
 * @module
 */

import nunjucks from "nunjucks";
import { isSandboxed } from "./template_compiler.ts";

interface Token {
  type: string;
  value: string;
  lineno: number;
  colno: number;
}

interface ParserNode {
  typename: string;
  lineno: number;
  colno: number;
  value?: unknown;
  name?: ParserNode & { children?: ParserNode[] };
  body?: ParserNode;
  cond?: ParserNode;
  else_?: ParserNode | null;
  names?: string[];
  isTuple?: boolean;
}

type NodeClass = new (lineno: number, colno: number, ...fields: unknown[]) => ParserNode;

interface Parser {
  peekToken(): Token | null;
  nextToken(): Token | null;
  pushToken(token: Token): void;
  fail(message: string, lineno?: number, colno?: number): never;
  parseSignature(): ParserNode;
  parseCompare(): ParserNode;
  parsePrimary(noPostfix?: boolean): ParserNode;
  parsePostfix(node: ParserNode): ParserNode;
  parseIs(): ParserNode;
  parseFor(): ParserNode & { arr?: ParserNode };
  parseSet(): ParserNode;
  parseStatement(): ParserNode | null;
  parseExpression(): ParserNode;
  parseUntilBlocks(...names: string[]): ParserNode;
  advanceAfterBlockEnd(name?: string): void;
  skip(type: string): boolean;
  skipValue(type: string, value: string): boolean;
  skipSymbol(name: string): boolean;
  breakOnBlocks: string[] | null;
}

const library = nunjucks as unknown as {
  parser: { Parser: { prototype: Parser } };
  lexer: Record<string, string>;
  nodes: Record<string, NodeClass>;
};
const lexer = library.lexer;
const nodes = library.nodes;

type NodeWithExtend = NodeClass & {
  extend(name: string, props: { fields: string[] }): NodeClass;
};
/** `{% for x in items if test %}`: the items the test keeps (`compileLoopFilter`). */
const LoopFilter = (nodes.InlineIf as NodeWithExtend).extend("LoopFilter", {
  fields: ["items", "test"],
});
/** The items a loop over one name runs over: a dict's keys (`compileLoopItems`). */
const LoopItems = (nodes.InlineIf as NodeWithExtend).extend("LoopItems", { fields: ["items"] });
/** `{% with a = 1 %}…{% endwith %}` (`compileWith`). */
const With = (nodes.Node as NodeWithExtend).extend("With", {
  fields: ["targets", "values", "body"],
});
/** `target[start:stop:step]`; a missing part is a `None` literal (`compileSlice`). */
const Slice = (nodes.LookupVal as NodeWithExtend).extend("Slice", {
  fields: ["target", "start", "stop", "step"],
});

/** Python's literals, which nunjucks would look up as variables. */
const PYTHON_LITERALS = new Map<string, unknown>([["True", true], ["False", false], [
  "None",
  null,
]]);

/** Tokens that start the bare argument of a test (Jinja's `parse_test`). */
const ARGUMENT_STARTS = new Set([
  lexer.TOKEN_SYMBOL,
  lexer.TOKEN_STRING,
  lexer.TOKEN_INT,
  lexer.TOKEN_FLOAT,
  lexer.TOKEN_BOOLEAN,
  lexer.TOKEN_NONE,
  lexer.TOKEN_LEFT_BRACKET,
  lexer.TOKEN_LEFT_CURLY,
]);
const NOT_AN_ARGUMENT = new Set(["else", "or", "and"]);

function lookup(target: ParserNode, index: string, token: Token): ParserNode {
  const key = new nodes.Literal!(token.lineno, token.colno, Number(index));
  return new nodes.LookupVal!(token.lineno, token.colno, target, key);
}

/**
 * `.0`, `.0.` and `.1.0` after a value: nunjucks' lexer made the int `0`, or the floats `0.` and
 * `1.0`, of what Jinja reads as indexes; a trailing `.` starts the next lookup.
 */
function numericLookup(parser: Parser, target: ParserNode, token: Token): ParserNode {
  const [whole, fraction] = token.value.split(".") as [string, string | undefined];
  if (!/^[0-9]+$/.test(whole) || (fraction !== undefined && !/^[0-9]*$/.test(fraction))) {
    parser.fail(
      `expected name or index as lookup value, got ${token.value}`,
      token.lineno,
      token.colno,
    );
  }
  let node = lookup(target, whole, token);
  if (fraction === undefined) return node;
  if (fraction !== "") {
    node = lookup(node, fraction, { ...token, colno: token.colno + whole.length + 1 });
  } else {
    parser.pushToken({
      type: lexer.TOKEN_OPERATOR!,
      value: ".",
      lineno: token.lineno,
      colno: token.colno + whole.length,
    });
  }
  return node;
}

/** Tells whether the next token is of `type`, without taking it. */
function nextIs(parser: Parser, type: string): boolean {
  return parser.peekToken()?.type === type;
}

/** `[index]`, or a slice `[start:stop:step]` whose parts may each be left out. */
function parseSubscript(parser: Parser, target: ParserNode): ParserNode {
  const open = parser.nextToken() as Token;
  const optional = (): ParserNode =>
    nextIs(parser, lexer.TOKEN_COLON!) || nextIs(parser, lexer.TOKEN_RIGHT_BRACKET!)
      ? new nodes.Literal!(open.lineno, open.colno, null)
      : parser.parseExpression();
  if (nextIs(parser, lexer.TOKEN_RIGHT_BRACKET!)) {
    parser.fail("expected an index or a slice in []", open.lineno, open.colno);
  }
  const parts = [optional()];
  while (parts.length < 3 && parser.skip(lexer.TOKEN_COLON!)) parts.push(optional());
  const close = parser.peekToken();
  if (!parser.skip(lexer.TOKEN_RIGHT_BRACKET!)) {
    parser.fail(
      `expected ']' to end the subscript, got ${close?.value ?? "end of template"}`,
      close?.lineno,
      close?.colno,
    );
  }
  if (parts.length === 1) return new nodes.LookupVal!(open.lineno, open.colno, target, parts[0]);
  while (parts.length < 3) parts.push(new nodes.Literal!(open.lineno, open.colno, null));
  return new Slice(open.lineno, open.colno, target, ...parts);
}

/** `{% set a, b = 1, 2 %}`, `{% set ns.x = … %}`, `{% set x %}…{% endset %}`. */
function parseJinjaSet(parser: Parser): ParserNode {
  const tag = parser.nextToken() as Token;
  const targets: ParserNode[] = [];
  do targets.push(parser.parsePrimary()); while (parser.skip(lexer.TOKEN_COMMA!));
  const node = new nodes.Set!(tag.lineno, tag.colno, targets) as ParserNode & {
    value: ParserNode | null;
  };
  if (parser.skipValue(lexer.TOKEN_OPERATOR!, "=")) {
    let value = parser.parseExpression();
    if (nextIs(parser, lexer.TOKEN_COMMA!)) {
      const items = [value];
      while (parser.skip(lexer.TOKEN_COMMA!)) {
        if (nextIs(parser, lexer.TOKEN_BLOCK_END!)) break;
        items.push(parser.parseExpression());
      }
      value = new nodes.Array!(value.lineno, value.colno, items);
      value.isTuple = true;
    }
    node.value = value;
    parser.advanceAfterBlockEnd(tag.value);
    return node;
  }
  if (targets.length > 1 || !parser.skip(lexer.TOKEN_BLOCK_END!)) {
    parser.fail("expected = or the end of the set tag", tag.lineno, tag.colno);
  }
  node.body = new nodes.Capture!(tag.lineno, tag.colno, parser.parseUntilBlocks("endset"));
  node.value = null;
  parser.advanceAfterBlockEnd();
  return node;
}

/** `{% with a = 1, b = 2 %}…{% endwith %}`: the values are computed outside the block. */
function parseWith(parser: Parser): ParserNode {
  const tag = parser.nextToken() as Token;
  const targets: ParserNode[] = [];
  const values: ParserNode[] = [];
  while (!nextIs(parser, lexer.TOKEN_BLOCK_END!)) {
    if (targets.length > 0 && !parser.skip(lexer.TOKEN_COMMA!)) {
      const token = parser.peekToken();
      parser.fail(
        `expected ',' between with assignments, got ${token?.value}`,
        token?.lineno,
        token?.colno,
      );
    }
    const target = parser.parsePrimary(true);
    if (target.typename !== "Symbol") {
      parser.fail("expected a name to assign in with", target.lineno, target.colno);
    }
    if (!parser.skipValue(lexer.TOKEN_OPERATOR!, "=")) {
      parser.fail("expected '=' after the name in with", target.lineno, target.colno);
    }
    targets.push(target);
    values.push(parser.parseExpression());
  }
  parser.advanceAfterBlockEnd(tag.value);
  const body = parser.parseUntilBlocks("endwith");
  if (parser.peekToken()?.value !== "endwith") parser.fail("expected endwith");
  parser.advanceAfterBlockEnd();
  return new With(
    tag.lineno,
    tag.colno,
    new nodes.NodeList!(tag.lineno, tag.colno, targets),
    new nodes.NodeList!(tag.lineno, tag.colno, values),
    body,
  );
}

function patchParser(): void {
  const prototype = library.parser.Parser.prototype;
  const original = {
    parsePostfix: prototype.parsePostfix,
    parsePrimary: prototype.parsePrimary,
    parseIs: prototype.parseIs,
    parseFor: prototype.parseFor,
    parseSet: prototype.parseSet,
    parseStatement: prototype.parseStatement,
  };

  prototype.parsePostfix = function (this: Parser, node: ParserNode): ParserNode {
    if (!isSandboxed()) return original.parsePostfix.call(this, node);
    let current = node;
    for (let token = this.peekToken(); token; token = this.peekToken()) {
      if (token.type === lexer.TOKEN_LEFT_PAREN) {
        current = new nodes.FunCall!(token.lineno, token.colno, current, this.parseSignature());
      } else if (token.type === lexer.TOKEN_LEFT_BRACKET) {
        current = parseSubscript(this, current);
      } else if (token.type === lexer.TOKEN_OPERATOR && token.value === ".") {
        this.nextToken();
        const name = this.nextToken();
        if (!name) this.fail("expected name as lookup value, got end of file");
        if (name.type === lexer.TOKEN_INT || name.type === lexer.TOKEN_FLOAT) {
          current = numericLookup(this, current, name);
        } else if (name.type === lexer.TOKEN_SYMBOL) {
          const key = new nodes.Literal!(name.lineno, name.colno, name.value);
          current = new nodes.LookupVal!(token.lineno, token.colno, current, key);
        } else {
          this.fail(`expected name as lookup value, got ${name.value}`, name.lineno, name.colno);
        }
      } else {
        break;
      }
    }
    return current;
  };

  prototype.parsePrimary = function (this: Parser, noPostfix?: boolean): ParserNode {
    const token = isSandboxed() ? this.peekToken() : null;
    if (!token || token.type !== lexer.TOKEN_SYMBOL || !PYTHON_LITERALS.has(token.value)) {
      return original.parsePrimary.call(this, noPostfix);
    }
    this.nextToken();
    const node = new nodes.Literal!(token.lineno, token.colno, PYTHON_LITERALS.get(token.value));
    return noPostfix ? node : this.parsePostfix(node);
  };

  // nunjucks reads `for x in items if test` as a loop over the inline if `items if test`.
  // A loop over one name iterates a dict's keys, as Python does (nunjucks would run no iteration).
  prototype.parseFor = function (this: Parser) {
    const node = original.parseFor.call(this);
    if (!isSandboxed() || !node.arr || !node.name) return node;
    const filtered = node.arr.typename === "InlineIf" && !node.arr.else_;
    let items = filtered ? node.arr.body! : node.arr;
    const name = node.name;
    if (name.typename === "Symbol") items = new LoopItems(items.lineno, items.colno, items);
    if (filtered) {
      const filter = new LoopFilter(items.lineno, items.colno, items, node.arr.cond);
      const symbols = name.typename === "Array" ? name.children ?? [] : [name];
      filter.names = symbols.map((symbol) => String(symbol.value));
      items = filter;
    }
    node.arr = items;
    return node;
  };

  prototype.parseSet = function (this: Parser): ParserNode {
    return isSandboxed() ? parseJinjaSet(this) : original.parseSet.call(this);
  };

  prototype.parseStatement = function (this: Parser): ParserNode | null {
    const token = this.peekToken();
    if (
      isSandboxed() && token !== null && token.type === lexer.TOKEN_SYMBOL &&
      token.value === "with" &&
      !this.breakOnBlocks?.includes("with")
    ) {
      return parseWith(this);
    }
    return original.parseStatement.call(this);
  };

  prototype.parseIs = function (this: Parser): ParserNode {
    if (!isSandboxed()) return original.parseIs.call(this);
    let node = this.parseCompare();
    if (!this.skipSymbol("is")) return node;
    const negated = this.skipSymbol("not");
    let test = this.parseCompare();
    const next = this.peekToken();
    if (
      test.typename === "Symbol" && next && ARGUMENT_STARTS.has(next.type) &&
      !(next.type === lexer.TOKEN_SYMBOL && NOT_AN_ARGUMENT.has(next.value))
    ) {
      const argument = this.parsePrimary();
      const args = new nodes.NodeList!(argument.lineno, argument.colno, [argument]);
      test = new nodes.FunCall!(test.lineno, test.colno, test, args);
    }
    node = new nodes.Is!(node.lineno, node.colno, node, test);
    return negated ? new nodes.Not!(node.lineno, node.colno, node) : node;
  };
}

patchParser();
