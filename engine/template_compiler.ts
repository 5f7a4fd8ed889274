/**
 * Flowgate's changes to the JavaScript nunjucks compiles a template to: `~` and `+`, list and
 * dict literals, literal text and every loop iteration call runtime hooks (which measure, bound
 * and check the deadline), and regex literals become RE2 patterns instead of JavaScript RegExps.
 * Templates nunjucks compiles for anyone else are left as they were.
 *
 * @module
 */

import nunjucks from "nunjucks";
import { RegexError } from "./regex.ts";
import { compileTemplateRegex } from "./template_regex.ts";

/** The runtime hooks sandboxed templates call; `createRuntime` in `template.ts` provides them. */
export interface SandboxHooks {
  /** `a + b`. */
  templateAdd(left: unknown, right: unknown): unknown;
  /** `a ~ b`. */
  templateConcat(left: unknown, right: unknown): string;
  /** `[…]`: measured before anyone can print or compare it. */
  templateList(items: unknown[]): unknown[];
  /** `{…}` and keyword arguments. */
  templateDict(entries: Record<string, unknown>): Record<string, unknown>;
  /** Literal template text about to be output. */
  templateText(text: string): string;
  /** Once per loop iteration. */
  templateTick(): void;
  /** `r/source/flags`. */
  templateRegex(source: string, flags: string): unknown;
}

interface CompilerNode {
  typename: string;
  value?: unknown;
  lineno: number;
  colno: number;
  left?: CompilerNode;
  right?: CompilerNode;
}

interface Compiler {
  _emit(code: string): void;
  _emitLine(code: string): void;
  compile(node: CompilerNode | undefined, frame: unknown): void;
  fail(message: string, lineno?: number, colno?: number): never;
}

type CompileMethod = (this: Compiler, node: CompilerNode, frame: unknown) => void;
type LoopBindings = (this: Compiler, node: unknown, arr: string, i: string, len: string) => void;

interface CompilerPrototype {
  compileLiteral: CompileMethod;
  compileAdd: CompileMethod;
  compileConcat: CompileMethod;
  compileArray: CompileMethod;
  compileDict: CompileMethod;
  _emitLoopBindings: LoopBindings;
}

let sandboxed = false;

/**
 * Runs `compile` (which builds `nunjucks.Template`s) with Flowgate's code generation. Compiling
 * is synchronous, so a flag is enough to keep other templates untouched.
 */
export function compileSandboxed<T>(compile: () => T): T {
  const previous = sandboxed;
  sandboxed = true;
  try {
    return compile();
  } finally {
    sandboxed = previous;
  }
}

function patchCompiler(): void {
  const prototype = (nunjucks as unknown as {
    compiler: { Compiler: { prototype: CompilerPrototype } };
  }).compiler.Compiler.prototype;
  const original = { ...prototype };
  const wrapCall = (hook: keyof SandboxHooks, method: CompileMethod): CompileMethod =>
    function (this: Compiler, node: CompilerNode, frame: unknown): void {
      if (!sandboxed) return method.call(this, node, frame);
      this._emit(`runtime.${hook}(`);
      method.call(this, node, frame);
      this._emit(")");
    };
  const binary = (hook: keyof SandboxHooks, method: CompileMethod): CompileMethod =>
    function (this: Compiler, node: CompilerNode, frame: unknown): void {
      if (!sandboxed) return method.call(this, node, frame);
      this._emit(`runtime.${hook}(`);
      this.compile(node.left, frame);
      this._emit(", ");
      this.compile(node.right, frame);
      this._emit(")");
    };

  prototype.compileLiteral = function (this: Compiler, node, frame): void {
    if (!sandboxed) return original.compileLiteral.call(this, node, frame);
    if (node.value instanceof RegExp) {
      const { source, flags } = node.value;
      try {
        compileTemplateRegex(source, flags);
      } catch (error) {
        if (!(error instanceof RegexError)) throw error;
        this.fail(error.message, node.lineno, node.colno);
      }
      this._emit(`runtime.templateRegex(${JSON.stringify(source)}, ${JSON.stringify(flags)})`);
      return;
    }
    // Literal text of the template (TemplateData) is output as is: count it too.
    if (node.typename === "TemplateData") {
      this._emit("runtime.templateText(");
      original.compileLiteral.call(this, node, frame);
      this._emit(")");
      return;
    }
    original.compileLiteral.call(this, node, frame);
  };
  prototype.compileAdd = binary("templateAdd", original.compileAdd);
  prototype.compileConcat = binary("templateConcat", original.compileConcat);
  prototype.compileArray = wrapCall("templateList", original.compileArray);
  prototype.compileDict = wrapCall("templateDict", original.compileDict);
  prototype._emitLoopBindings = function (this: Compiler, node, arr, i, len): void {
    original._emitLoopBindings.call(this, node, arr, i, len);
    if (sandboxed) this._emitLine("runtime.templateTick();");
  };
}

patchCompiler();
