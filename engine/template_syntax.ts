/**
 * Finds what would make a Jinja param fail before any run: a template that does not parse
 * (`{{ Event.info `), a regex RE2 cannot run, or a filter or test that does not exist (Jinja2
 * refuses those when it compiles, too). `validate` reports the problem with its line and column.
 *
 * @module
 */

import nunjucks from "nunjucks";
import type { ParamDescriptor } from "./model.ts";
import {
  compileTemplate,
  hasTemplateFilter,
  hasTemplateTest,
  jinjaSource,
  TemplateError,
} from "./template.ts";
import { compileSandboxed } from "./template_compiler.ts";

/** Why a template cannot run, and where (1-based line and column, when known). */
export interface TemplateSyntaxProblem {
  /** What is wrong, without the position: `unexpected token: }}`, `unknown filter "nope"`. */
  detail: string;
  /** 1-based line. */
  line?: number;
  /** 1-based column. */
  column?: number;
}

interface AstNode {
  typename: string;
  lineno: number;
  colno: number;
  value?: unknown;
  name?: AstNode;
  right?: AstNode;
  findAll(type: unknown): AstNode[];
}

const library = nunjucks as unknown as {
  parser: { parse(source: string): AstNode };
  nodes: Record<string, unknown>;
};

/** The name of the test an `is` node runs (`defined`, `divisibleby`; `none` is the `null` test). */
function testName(node: AstNode | undefined): AstNode | undefined {
  if (!node) return undefined;
  if (node.typename === "FunCall") return node.name;
  return node;
}

/** The first filter or test the template names that does not exist. */
function unknownName(template: string): TemplateSyntaxProblem | undefined {
  const root = compileSandboxed(() => library.parser.parse(jinjaSource(template)));
  const used: { kind: string; node: AstNode; known: (name: string) => boolean }[] = [
    ...root.findAll(library.nodes.Filter).map((node) => ({
      kind: "filter",
      node: node.name as AstNode,
      known: hasTemplateFilter,
    })),
    ...root.findAll(library.nodes.Is).flatMap((node) => {
      const name = testName(node.right);
      return name ? [{ kind: "test", node: name, known: hasTemplateTest }] : [];
    }),
  ].sort((a, b) => a.node.lineno - b.node.lineno || a.node.colno - b.node.colno);
  for (const { kind, node, known } of used) {
    const name = String(node.value);
    if (!known(name)) {
      return { detail: `unknown ${kind} "${name}"`, line: node.lineno + 1, column: node.colno + 1 };
    }
  }
  return undefined;
}

/**
 * Checks that `template` parses and compiles as Flowgate renders it (Jinja2 syntax), and that
 * every filter and test it names exists. Returns the first problem, or undefined.
 */
export function checkTemplateSyntax(template: string): TemplateSyntaxProblem | undefined {
  try {
    compileTemplate(template);
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    const detail = error.message.replace(/^Cannot render template: (line \d+, column \d+: )?/, "");
    return { detail, line: error.line, column: error.column };
  }
  return unknownName(template);
}

/** `line 3, column 11: unexpected token: }}`, or the detail alone when the place is unknown. */
export function describeTemplateProblem(problem: TemplateSyntaxProblem): string {
  if (problem.line === undefined) return problem.detail;
  return `line ${problem.line}, column ${problem.column}: ${problem.detail}`;
}

/**
 * The syntax problem of a Jinja param's value, as validation reports it (`template syntax error
 * at line 1, column 16: …`), or undefined when the param takes no template or the value is fine.
 */
export function templateParamProblem(param: ParamDescriptor, value: unknown): string | undefined {
  if (!param.jinja_supported || typeof value !== "string" || value === "") return undefined;
  const problem = checkTemplateSyntax(value);
  return problem && `template syntax error at ${describeTemplateProblem(problem)}`;
}
