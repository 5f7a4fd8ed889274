/**
 * Flowgate's changes to the JavaScript nunjucks compiles a template to: `~` and `+`, list and
 * dict literals, literal text and every loop iteration call runtime hooks (which measure, bound
 * and check the deadline), regex literals become RE2 patterns instead of JavaScript RegExps,
 * lookups record their line and column, and `a.b(…)` calls go through `callMember` (Python's
 * methods, `loop.cycle`). Scoping is Jinja2's: names are read from the run-time frames only, a
 * loop iteration, a `with` block and a set or filter block each write to their own frame, and
 * `set ns.x` changes a namespace. Conditions, `not`, `and` and `or` use Python's truth. The
 * Jinja2 nodes the parser adds (loop filters, `with`, slices) compile here too. Templates
 * nunjucks compiles for anyone else are left as they were.
 *
 * @module
 */

import nunjucks from "nunjucks";
import { RegexError } from "./regex.ts";
import { compileTemplateRegex } from "./template_regex.ts";
import { isBlockedMember } from "./template_values.ts";

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
  /**
   * At the start of each loop iteration: forgets what the previous iteration set, as each Jinja2
   * iteration has its own scope, and binds `k, v` to a list item's members (nunjucks binds them
   * to compile-time ids only, which Flowgate's lookups do not read).
   */
  startIteration(frame: unknown, names: string[], item: unknown): void;
  /** Python's truth of a value: an empty list or dict is false, as in Jinja2. */
  templateTruth(value: unknown): boolean;
  /** `a and b`: `a` when it is false, else `b` (evaluated only then). */
  templateAnd(left: unknown, right: () => unknown): unknown;
  /** `a or b`: `a` when it is true, else `b` (evaluated only then). */
  templateOr(left: unknown, right: () => unknown): unknown;
  /** `{% for x in items %}`: a dict's keys, as Python iterates a dict; anything else as it is. */
  loopItems(items: unknown): unknown;
  /** `{% for x in items if test %}`: the items `test` (run with `x` bound) keeps. */
  filterLoopItems(
    items: unknown,
    names: string[],
    frame: unknown,
    test: (frame: unknown) => unknown,
  ): unknown;
  /** `{% set ns.name = value %}`: only namespaces take attributes. */
  setMember(target: unknown, name: string, value: unknown): void;
  /** `{% set a, b = value %}`: the `count` values `value` unpacks to, as Python's. */
  unpackValues(value: unknown, count: number): unknown[];
  /** `{% set a = 1, 2 %}`: marks the list as the tuple Jinja2 makes. */
  templateTuple(items: unknown[]): unknown[];
  /** `target[start:stop:step]`, Python's slice of a list or a string. */
  templateSlice(target: unknown, start: unknown, stop: unknown, step: unknown): unknown;
  /** `r/source/flags`. */
  templateRegex(source: string, flags: string): unknown;
  /** `target.key(args)`: a Python method of the value (`d.items()`), or a macro it holds. */
  callMember(
    target: unknown,
    key: unknown,
    name: string,
    context: unknown,
    args: unknown[],
  ): unknown;
}

interface CompilerNode {
  typename: string;
  value?: unknown;
  children?: CompilerNode[];
  targets?: CompilerNode[];
  body?: CompilerNode;
  items?: CompilerNode;
  test?: CompilerNode;
  names?: string[];
  isTuple?: boolean;
  start?: CompilerNode;
  stop?: CompilerNode;
  step?: CompilerNode;
  values?: CompilerNode;
  lineno: number;
  colno: number;
  left?: CompilerNode;
  right?: CompilerNode;
  name?: CompilerNode;
  args?: CompilerNode;
  target?: CompilerNode;
  val?: CompilerNode;
  cond?: CompilerNode;
}

interface Compiler {
  codebuf: string[];
  _tmpid(): string;
  _emit(code: string): void;
  _compileExpression(node: CompilerNode | undefined, frame: unknown): void;
  _compileAggregate(
    node: CompilerNode | undefined,
    frame: unknown,
    start: string,
    end: string,
  ): void;
  _getNodeName(node: CompilerNode | undefined): string;
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
  compileFunCall: CompileMethod;
  compileLookupVal: CompileMethod;
  compileSymbol: CompileMethod;
  compileSet: CompileMethod;
  compileFor: CompileMethod;
  compileLoopFilter: CompileMethod;
  compileWith: CompileMethod;
  compileCapture: CompileMethod;
  compileIf: (this: Compiler, node: CompilerNode, frame: unknown, async?: boolean) => void;
  compileInlineIf: CompileMethod;
  compileNot: CompileMethod;
  compileAnd: CompileMethod;
  compileOr: CompileMethod;
  compileTruth: CompileMethod;
  compileLoopItems: CompileMethod;
  compileSlice: CompileMethod;
  _emitLoopBindings: LoopBindings;
}

const library = nunjucks as unknown as {
  nodes: Record<string, new (lineno: number, colno: number, ...fields: unknown[]) => CompilerNode>;
};
const InlineIf = library.nodes.InlineIf as unknown as {
  extend(name: string, props: { fields: string[] }): new (
    lineno: number,
    colno: number,
    value: CompilerNode | undefined,
  ) => CompilerNode;
};
/** A condition tested with Python's truth (`compileTruth`). */
const Truth = InlineIf.extend("Truth", { fields: ["value"] });

/** A copy of `node` whose condition is tested with Python's truth. */
function withTruth(node: CompilerNode, field: "cond" | "target"): CompilerNode {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(node)), node) as CompilerNode;
  const tested = node[field];
  copy[field] = new Truth(tested?.lineno ?? node.lineno, tested?.colno ?? node.colno, tested);
  return copy;
}

let sandboxed = false;

/** Tells whether a template is being compiled for Flowgate (the parser's Jinja syntax applies). */
export function isSandboxed(): boolean {
  return sandboxed;
}

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

/** `lineno = …, colno = …, ` for a node: nunjucks' runtime error position, 1-based. */
function position(node: CompilerNode): string {
  return `lineno = ${node.lineno + 1}, colno = ${node.colno + 1}, `;
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
  // Lookups record where they are (1-based, after their target ran), so "cannot look up … of
  // an undefined value" names the failing lookup's line and column.
  prototype.compileLookupVal = function (this: Compiler, node, frame): void {
    if (!sandboxed) return original.compileLookupVal.call(this, node, frame);
    this._emit("runtime.memberLookup((");
    this._compileExpression(node.target, frame);
    this._emit(`), (${position(node)}`);
    this._compileExpression(node.val, frame);
    this._emit("))");
  };
  // `a.b(…)` calls through `callMember`, which knows Python's methods (`d.items()`).
  prototype.compileFunCall = function (this: Compiler, node, frame): void {
    const callee = node.name;
    if (!sandboxed || callee?.typename !== "LookupVal") {
      return original.compileFunCall.call(this, node, frame);
    }
    this._emit("runtime.callMember(");
    this._compileExpression(callee.target, frame);
    this._emit(`, (${position(node)}`);
    this._compileExpression(callee.val, frame);
    this._emit(`), ${JSON.stringify(this._getNodeName(callee))}, context, `);
    this._compileAggregate(node.args, frame, "[", "])");
  };
  // Names are always looked up in the run-time frames, never in the compile-time ids nunjucks
  // keeps for loop variables and macro arguments: a `set` in a loop writes to the iteration's
  // frame, and reads after the loop must not see it.
  prototype.compileSymbol = function (this: Compiler, node, frame): void {
    if (!sandboxed) return original.compileSymbol.call(this, node, frame);
    this._emit(`runtime.contextOrFrameLookup(context, frame, ${JSON.stringify(node.value)})`);
  };
  prototype.compileSet = function (this: Compiler, node, frame): void {
    if (!sandboxed) return original.compileSet.call(this, node, frame);
    compileJinjaSet(this, node, frame);
  };
  // A loop's frame takes the loop's writes (Jinja2 scoping): nunjucks lets them reach outside.
  prototype.compileFor = function (this: Compiler, node, frame): void {
    if (!sandboxed) return original.compileFor.call(this, node, frame);
    const start = this.codebuf.length;
    original.compileFor.call(this, node, frame);
    if (this.codebuf[start] !== "frame = frame.push();\n") {
      this.fail("cannot compile this loop in the sandbox", node.lineno, node.colno);
    }
    this.codebuf[start] = "frame = frame.push(true);\n";
  };
  prototype.compileLoopItems = function (this: Compiler, node, frame): void {
    this._emit("runtime.loopItems(");
    this._compileExpression(node.items, frame);
    this._emit(")");
  };
  prototype.compileLoopFilter = function (this: Compiler, node, frame): void {
    this._emit("runtime.filterLoopItems(");
    this._compileExpression(node.items, frame);
    this._emit(`, ${JSON.stringify(node.names)}, frame, function (frame) { return `);
    this._compileExpression(node.test, frame);
    this._emit("; })");
  };
  // Conditions use Python's truth: `{% if Event.Tag %}` is false for an empty list, as in Jinja2.
  prototype.compileIf = function (this: Compiler, node, frame, async): void {
    original.compileIf.call(this, sandboxed ? withTruth(node, "cond") : node, frame, async);
  };
  prototype.compileInlineIf = function (this: Compiler, node, frame): void {
    original.compileInlineIf.call(this, sandboxed ? withTruth(node, "cond") : node, frame);
  };
  prototype.compileNot = function (this: Compiler, node, frame): void {
    original.compileNot.call(this, sandboxed ? withTruth(node, "target") : node, frame);
  };
  prototype.compileTruth = function (this: Compiler, node, frame): void {
    this._emit("runtime.templateTruth(");
    this._compileExpression(node.value as CompilerNode, frame);
    this._emit(")");
  };
  const logical = (hook: "templateAnd" | "templateOr", method: CompileMethod): CompileMethod =>
    function (this: Compiler, node: CompilerNode, frame: unknown): void {
      if (!sandboxed) return method.call(this, node, frame);
      this._emit(`runtime.${hook}(`);
      this._compileExpression(node.left, frame);
      this._emit(", function () { return ");
      this._compileExpression(node.right, frame);
      this._emit("; })");
    };
  prototype.compileAnd = logical("templateAnd", original.compileAnd);
  prototype.compileOr = logical("templateOr", original.compileOr);
  // A `{% set x %}…{% endset %}` or `{% filter %}` body has its own scope in Jinja2.
  prototype.compileCapture = function (this: Compiler, node, frame): void {
    if (!sandboxed) return original.compileCapture.call(this, node, frame);
    this._emit("(function (frame) { return ");
    original.compileCapture.call(this, node, frame);
    this._emit("; })(frame.push(true))");
  };
  // `{% with %}`: the values are computed in the outer scope, then bound in the block's own.
  prototype.compileWith = function (this: Compiler, node, frame): void {
    const values = (node.values?.children ?? []).map((value) => {
      const id = this._tmpid();
      this._emit(`var ${id} = `);
      this._compileExpression(value, frame);
      this._emitLine(";");
      return id;
    });
    this._emitLine("frame = frame.push(true);");
    const targets = (node as unknown as { targets: CompilerNode }).targets.children ?? [];
    targets.forEach((target, index) => {
      this._emitLine(`frame.set(${JSON.stringify(target.value)}, ${values[index]});`);
    });
    this.compile(node.body, frame);
    this._emitLine("frame = frame.pop();");
  };
  prototype.compileSlice = function (this: Compiler, node, frame): void {
    this._emit("runtime.templateSlice(");
    this._compileExpression(node.target, frame);
    for (const part of [node.start, node.stop, node.step]) {
      this._emit(", ");
      this._compileExpression(part, frame);
    }
    this._emit(")");
  };
  prototype._emitLoopBindings = function (this: Compiler, node, arr, i, len): void {
    if (sandboxed) {
      this._emitLine(
        `runtime.startIteration(frame, ${
          JSON.stringify(loopNames(node))
        }, runtime.isArray(${arr}) ? ${arr}[${i}] : undefined);`,
      );
    }
    original._emitLoopBindings.call(this, node, arr, i, len);
    if (sandboxed) this._emitLine("runtime.templateTick();");
  };
}

/** The names a `for` binds: `x`, or `k, v`. */
function loopNames(node: unknown): string[] {
  const name = (node as { name: CompilerNode }).name;
  const symbols = name.typename === "Array" ? name.children ?? [] : [name];
  return symbols.map((symbol) => String(symbol.value));
}

/**
 * `{% set %}` as Jinja2: names go to the current frame (a loop iteration's own, or the template's),
 * `ns.attr` to a namespace, and several targets unpack the value (`set a, b = 1, 2`).
 */
function compileJinjaSet(compiler: Compiler, node: CompilerNode, frame: unknown): void {
  const targets = node.targets ?? [];
  const value = compiler._tmpid();
  compiler._emit(`var ${value} = `);
  if (node.value) {
    const tuple = (node.value as CompilerNode).isTuple === true;
    if (tuple) compiler._emit("runtime.templateTuple(");
    compiler._compileExpression(node.value as CompilerNode, frame);
    if (tuple) compiler._emit(")");
  } else {
    compiler.compile(node.body, frame);
  }
  compiler._emitLine(";");
  if (targets.length > 1) {
    compiler._emitLine(`${value} = runtime.unpackValues(${value}, ${targets.length});`);
  }
  targets.forEach((target, index) => {
    const item = targets.length > 1 ? `${value}[${index}]` : value;
    if (target.typename === "Symbol") {
      if (isBlockedMember(String(target.value))) {
        compiler.fail(
          `cannot set "${target.value}": the name is reserved`,
          target.lineno,
          target.colno,
        );
      }
      const name = JSON.stringify(target.value);
      compiler._emitLine(`frame.set(${name}, ${item}, true);`);
      compiler._emitLine(`if (frame.topLevel) { context.setVariable(${name}, ${item}); }`);
      return;
    }
    const key = (target as { val?: CompilerNode }).val;
    if (
      target.typename !== "LookupVal" || key?.typename !== "Literal" ||
      typeof key.value !== "string"
    ) {
      compiler.fail(
        "can only set a name or a namespace attribute (`set x = …`, `set ns.x = …`)",
        target.lineno,
        target.colno,
      );
    }
    compiler._emit("runtime.setMember(");
    compiler._compileExpression(target.target, frame);
    compiler._emitLine(`, ${JSON.stringify(key.value)}, ${item});`);
  });
}

patchCompiler();
