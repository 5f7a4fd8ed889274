/**
 * Jinja2 templates for `jinja_supported` params (MISP renders them with Jinja2 in misp-modules),
 * rendered with `nunjucks` taught Jinja2's syntax, scoping and output (`template_parser.ts`,
 * `template_compiler.ts`, `template_python.ts`, `template_methods.ts`, `template_sequences.ts`,
 * `template_namespace.ts`; one final newline dropped, a member of an undefined value is an error,
 * Python's truth) inside a sandbox: variable and member lookups only see own data properties,
 * only template macros, `range()` and `namespace()` can be called, there are no loaders, and
 * every interpolated value is escaped for where the text goes (HTML mail, JSON payload, Slack,
 * Telegram). Renders are bounded by construction: loops, output, every string and list a filter
 * or operator builds (checked before it is allocated), regex literals run on RE2, and time
 * (`MAX_TEMPLATE_RENDER_MS`, or the caller's deadline or abort signal, checked at every loop
 * iteration, filter and output).
 *
 * @module
 */

import nunjucks from "nunjucks";
import type { TemplateEscape } from "./model.ts";
import type { TemplateOptions } from "./module_services.ts";
import { MAX_TEMPLATE_OUTPUT, TEMPLATE_CACHE_ENTRIES } from "./limits.ts";
import { currentBudget, RenderBudget, withBudget } from "./template_budget.ts";
import { compileSandboxed, type SandboxHooks } from "./template_compiler.ts";
import {
  type FilterTable,
  installFilters,
  installTests,
  templateRange,
} from "./template_filters.ts";
import { pythonMethod } from "./template_methods.ts";
import { createNamespace, isNamespace, setNamespaceMember } from "./template_namespace.ts";
import "./template_parser.ts";
import { asTuple } from "./template_python.ts";
import { compileTemplateRegex } from "./template_regex.ts";
import { readStrayCommentEndAsText } from "./template_lexer.ts";
import {
  addValues,
  concatValues,
  ensureValueSize,
  isBlockedMember,
  lookupMember,
  pythonTruth,
  SafeString,
  stringify,
} from "./template_values.ts";
import { sliceValue, unpackValues } from "./template_sequences.ts";

/** A template that does not parse or fails while rendering; the message gives line and column. */
export class TemplateError extends SyntaxError {
  /** 1-based line of the failing construct, when nunjucks knows it. */
  line?: number;
  /** 1-based column of the failing construct, when nunjucks knows it. */
  column?: number;

  /** Creates a template error; `line` and `column` are 1-based. */
  constructor(
    message: string,
    options?: ErrorOptions & { line?: number; column?: number },
  ) {
    super(message, options);
    this.name = "TemplateError";
    this.line = options?.line;
    this.column = options?.column;
  }
}

const ESCAPERS: Record<TemplateEscape, (text: string) => string> = {
  none: (text) => text,
  html: (text) =>
    text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
      .replaceAll('"', "&quot;").replaceAll("'", "&#39;"),
  json: (text) => JSON.stringify(text).slice(1, -1),
  slack: (text) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;"),
  "telegram-html": (text) =>
    text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
      .replaceAll('"', "&quot;"),
  markdown: (text) => text.replace(/[_*[\]()~`>#+\-=|{}.!\\]/g, "\\$&"),
};

type Runtime = typeof nunjucks.runtime;
const baseRuntime = nunjucks.runtime as Runtime & {
  Frame: unknown;
  fromIterator: (value: unknown) => unknown;
  makeMacro: (...args: unknown[]) => (...args: unknown[]) => unknown;
};

/** `namespace(…)`, measured as a dict literal is. */
function templateNamespace(...args: unknown[]): unknown {
  const namespace = createNamespace(...args);
  const budget = currentBudget();
  budget.addBuilt("namespace()", Object.keys(namespace).length, { unit: "list items" });
  ensureValueSize("namespace()", namespace, budget);
  return namespace;
}

/** Globals a template may call besides its own macros. */
const CALLABLE_GLOBALS = new Map<string, (...args: unknown[]) => unknown>([
  ["range", templateRange as (...args: unknown[]) => unknown],
  ["namespace", templateNamespace],
]);
const callableGlobals = new Set<unknown>(CALLABLE_GLOBALS.values());

function countIterations(value: unknown): void {
  if (isNamespace(value)) throw new TypeError("'Namespace' object is not iterable");
  let count = 0;
  if (Array.isArray(value) || typeof value === "string") count = value.length;
  else if (value !== null && typeof value === "object") count = Object.keys(value).length;
  const budget = currentBudget();
  budget.tick();
  budget.countIterations(count);
}

/**
 * Jinja2's member lookup in a template: as `lookupMember`, except that looking up a member of an
 * undefined value is an error (Jinja2's `UndefinedError`; MISP then renders the param as '').
 */
function templateLookup(value: unknown, key: unknown): unknown {
  if (value === undefined) {
    throw new TypeError(
      `cannot look up ${
        typeof key === "number" ? `item ${key}` : `"${String(key)}"`
      } of an undefined value (Jinja2's UndefinedError)`,
    );
  }
  return lookupMember(value, key);
}

/** A JSON object or a dict the template built (not a list, text, namespace or `loop`). */
function isDict(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) &&
    [Object.prototype, null].includes(Object.getPrototypeOf(value));
}

/** nunjucks' run-time scope: its own variables, then its parent's. */
interface RuntimeFrame {
  variables: Record<string, unknown>;
  push(isolateWrites?: boolean): RuntimeFrame;
  set(name: string, value: unknown): void;
}

/** Binds a loop's names to one item: `x`, or `k, v` to the item's first two members. */
function bindLoopNames(frame: RuntimeFrame, names: string[], item: unknown): void {
  if (names.length === 1) frame.set(names[0] as string, item);
  else names.forEach((name, index) => frame.set(name, lookupMember(item, index)));
}

/**
 * `for names in items if test`: the items the test keeps, so `loop.index` and `loop.length` count
 * only them, as in Jinja2. A dict (`for k, v in dict if v`) keeps its entries the test keeps.
 */
function filterLoopItems(
  items: unknown,
  names: string[],
  frame: RuntimeFrame,
  test: (frame: RuntimeFrame) => unknown,
): unknown {
  const budget = currentBudget();
  budget.step();
  const keeps = (item: unknown): boolean => {
    budget.step();
    const scope = frame.push(true);
    bindLoopNames(scope, names, item);
    return pythonTruth(test(scope));
  };
  if (typeof items === "string" || Array.isArray(items)) {
    budget.countIterations(items.length);
    const list: unknown[] = typeof items === "string" ? items.split("") : items;
    const kept = list.filter(keeps);
    budget.addBuilt("A loop filter", kept.length, { unit: "list items" });
    return kept;
  }
  if (items === null || typeof items !== "object") return [];
  const entries = Object.entries(items);
  budget.countIterations(entries.length);
  const kept = entries.filter(keeps);
  budget.addBuilt("A loop filter", kept.length, { unit: "list items" });
  return Object.fromEntries(kept);
}

/** The `loop` nunjucks binds in a for loop (`index0`, `first`, `length`, …). */
function isLoopObject(value: unknown): value is { index0: number } {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const loop = value as Record<string, unknown>;
  return typeof loop.index0 === "number" && typeof loop.revindex0 === "number" &&
    typeof loop.first === "boolean" && typeof loop.length === "number";
}

function createRuntime(escape: TemplateEscape): Runtime {
  const escaper = ESCAPERS[escape];
  const macros = new WeakSet<object>();
  const callWrap = (fn: unknown, name: string, context: unknown, args: unknown[]) => {
    currentBudget().step();
    if (typeof fn === "function" && callableGlobals.has(fn)) return fn(...args);
    if (typeof fn !== "function" || !macros.has(fn)) {
      throw new TypeError(`Cannot call "${name}": only template macros can be called`);
    }
    return fn.apply(context, args);
  };
  const callFilter = (name: string, ...args: unknown[]) =>
    (environment.getFilter(name) as (...args: unknown[]) => unknown)(...args);
  const hooks: SandboxHooks = {
    templateAdd: (left, right) => {
      const budget = currentBudget();
      budget.step();
      return addValues(left, right, 'The "+" operator', budget);
    },
    templateConcat: (left, right) => {
      currentBudget().step();
      return concatValues(left, right, 'The "~" operator');
    },
    templateList: (items) => {
      const budget = currentBudget();
      budget.step();
      budget.addBuilt("A list literal", items.length, { unit: "list items" });
      ensureValueSize("A list literal", items, budget);
      return items;
    },
    templateDict: (entries) => {
      const budget = currentBudget();
      budget.step();
      budget.addBuilt("A dict literal", Object.keys(entries).length, { unit: "list items" });
      ensureValueSize("A dict literal", entries, budget);
      return entries;
    },
    templateText: (text) => {
      const budget = currentBudget();
      budget.step();
      budget.addOutput(text.length);
      return text;
    },
    templateTick: () => currentBudget().step(),
    startIteration: (frame, names, item) => {
      const variables = (frame as RuntimeFrame).variables;
      for (const name of Object.keys(variables)) {
        if (!names.includes(name)) delete variables[name];
      }
      if (names.length > 1 && item !== undefined) bindLoopNames(frame as RuntimeFrame, names, item);
    },
    templateTruth: pythonTruth,
    templateAnd: (left, right) => pythonTruth(left) ? right() : left,
    templateOr: (left, right) => pythonTruth(left) ? left : right(),
    loopItems: (items) => {
      if (!isDict(items)) return items;
      const keys = Object.keys(items);
      currentBudget().addBuilt("A loop over a dict", keys.length, { unit: "list items" });
      return keys;
    },
    filterLoopItems: (items, names, frame, test) =>
      filterLoopItems(
        items,
        names,
        frame as RuntimeFrame,
        test as (frame: RuntimeFrame) => unknown,
      ),
    setMember: (target, name, value) => {
      const budget = currentBudget();
      budget.step();
      setNamespaceMember(target, name, value);
      // The namespace changed in place: sizes measured before may be stale.
      budget.forgetWeights();
      ensureValueSize("Setting a namespace attribute", target, budget);
    },
    unpackValues: (value, count) => {
      currentBudget().step();
      return unpackValues(value, count);
    },
    templateTuple: (items) => asTuple(items),
    templateSlice: (target, start, stop, step) => {
      if (target === undefined) {
        throw new TypeError("cannot slice an undefined value (Jinja2's UndefinedError)");
      }
      const budget = currentBudget();
      budget.step();
      return sliceValue(target, [start, stop, step], budget);
    },
    templateRegex: (source, flags) => compileTemplateRegex(source, flags),
    callMember: (target, key, name, context, args) => {
      if (key === "cycle" && isLoopObject(target)) {
        currentBudget().step();
        return args.length === 0 ? undefined : args[target.index0 % args.length];
      }
      const method = pythonMethod(target, key);
      if (!method) return callWrap(templateLookup(target, key), name, context, args);
      currentBudget().step();
      return method(args, callFilter);
    },
  };
  return {
    ...baseRuntime,
    ...hooks,
    memberLookup: templateLookup,
    contextOrFrameLookup: (
      context: { ctx: Record<string, unknown> },
      frame: { variables: Record<string, unknown>; parent: unknown },
      name: string,
    ) => {
      for (
        let current: typeof frame | null = frame;
        current;
        current = current.parent as typeof frame | null
      ) {
        if (Object.hasOwn(current.variables, name)) return current.variables[name];
      }
      if (isBlockedMember(name)) return undefined;
      if (!Object.hasOwn(context.ctx, name)) return CALLABLE_GLOBALS.get(name);
      const value = context.ctx[name];
      return typeof value === "function" && !macros.has(value) ? undefined : value;
    },
    callWrap,
    makeMacro: (...args: unknown[]) => {
      const macro = baseRuntime.makeMacro(...args);
      macros.add(macro);
      return macro;
    },
    fromIterator: (value: unknown) => {
      countIterations(value);
      return baseRuntime.fromIterator(value);
    },
    suppressValue: (value: unknown) => {
      const budget = currentBudget();
      budget.step();
      let text: string;
      if (value instanceof SafeString) {
        text = value.val;
      } else {
        const raw = stringify(value, budget.outputRoom);
        budget.ensureOutput(raw.length);
        text = escaper(raw);
      }
      budget.addOutput(text.length);
      return text;
    },
  } as Runtime;
}

function createEnvironment(): nunjucks.Environment {
  readStrayCommentEndAsText();
  const environment = new nunjucks.Environment([], {
    autoescape: true,
    throwOnUndefined: false,
  });
  const internals = environment as unknown as FilterTable & {
    globals: Record<string, unknown>;
    tests: Record<string, unknown>;
    getTest: (name: string) => unknown;
  };
  internals.globals = Object.create(null);
  internals.getFilter = (name) => {
    if (!Object.hasOwn(internals.filters, name)) throw new Error(`filter not found: ${name}`);
    return internals.filters[name];
  };
  internals.getTest = (name) => {
    if (!Object.hasOwn(internals.tests, name)) throw new Error(`test not found: ${name}`);
    return internals.tests[name];
  };
  installFilters(internals);
  installTests(internals.tests);
  return environment;
}

const environment = createEnvironment();
const runtimes = new Map<TemplateEscape, Runtime>();
const cache = new Map<string, nunjucks.Template>();

function runtimeFor(escape: TemplateEscape): Runtime {
  let runtime = runtimes.get(escape);
  if (!runtime) {
    runtime = createRuntime(escape);
    runtimes.set(escape, runtime);
  }
  return runtime;
}

/** Reads nunjucks' `[Line n, Column m]` prefix and strips its noise from the message. */
function toTemplateError(error: unknown): TemplateError {
  const raw = error instanceof Error ? error.message : String(error);
  const position = /\[Line (\d+), Column (\d+)\]/.exec(raw);
  const detail = raw.replaceAll(/\(unknown path\)|\[Line \d+, Column \d+\]/g, "")
    .replaceAll(/\b(Template render error|Error|RangeError|TypeError|TemplateLimitError): /g, "")
    .replaceAll(/\s+/g, " ").trim();
  if (!position) return new TemplateError(`Cannot render template: ${detail}`, { cause: error });
  const line = Number(position[1]);
  const column = Number(position[2]);
  return new TemplateError(
    `Cannot render template: line ${line}, column ${column}: ${detail}`,
    { cause: error, line, column },
  );
}

/**
 * The template text as Jinja2's lexer sees it: `\r\n` and `\r` read as `\n`, and one final
 * newline dropped (`keep_trailing_newline` is off in misp-modules' environment).
 */
export function jinjaSource(template: string): string {
  const text = template.replaceAll(/\r\n?/g, "\n");
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

/**
 * nunjucks gives no place for a template that ends too early (`{{ Event.info `): the place is the
 * end of the text, as Jinja2's "unexpected end of template".
 */
function atEndWhenUnplaced(error: TemplateError, source: string): TemplateError {
  if (error.line !== undefined) return error;
  const lines = source.split("\n");
  const line = lines.length;
  const column = (lines.at(-1) as string).length + 1;
  const detail = error.message.replace(/^Cannot render template: /, "");
  return new TemplateError(
    `Cannot render template: line ${line}, column ${column}: unexpected end of template, ${detail}`,
    { cause: error.cause, line, column },
  );
}

function compile(template: string, escape: TemplateEscape): nunjucks.Template {
  const key = `${escape}\u0000${template}`;
  const cached = cache.get(key);
  if (cached) {
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  let compiled: nunjucks.Template;
  const source = jinjaSource(template);
  try {
    compiled = compileSandboxed(() => new nunjucks.Template(source, environment, undefined, true));
  } catch (error) {
    throw atEndWhenUnplaced(toTemplateError(error), source);
  }
  const internals = compiled as unknown as {
    rootRenderFunc: (
      env: unknown,
      context: unknown,
      frame: unknown,
      runtime: unknown,
      cb: unknown,
    ) => void;
  };
  const root = internals.rootRenderFunc;
  const runtime = runtimeFor(escape);
  internals.rootRenderFunc = (env, context, frame, _runtime, cb) =>
    root(env, context, frame, runtime, cb);
  cache.set(key, compiled);
  if (cache.size > TEMPLATE_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  return compiled;
}

/**
 * Compiles `template` as `renderTemplate` does (and caches it), without rendering: what `validate`
 * uses to find syntax errors before a run.
 *
 * @throws {TemplateError} (with line and column) when the template does not parse or compile
 */
export function compileTemplate(template: string): void {
  compile(template, "none");
}

/** Tells whether templates may use the filter `name` (nunjucks' builtins and Flowgate's). */
export function hasTemplateFilter(name: string): boolean {
  return Object.hasOwn((environment as unknown as FilterTable).filters, name);
}

/** Tells whether templates may use the test `name` (`defined`, `none`, `divisibleby`, …). */
export function hasTemplateTest(name: string): boolean {
  return Object.hasOwn((environment as unknown as { tests: object }).tests, name);
}

/**
 * Renders a Jinja-compatible template against the roaming data (top-level keys become variables:
 * `{{ Event.info }}`), sandboxed and escaped per `options.escape` (default "none", as MISP).
 * Undefined values render as ''. The render stops at `options.deadline`, when `options.signal`
 * aborts, or after `MAX_TEMPLATE_RENDER_MS`, whichever comes first.
 *
 * @throws {TemplateError} (with line and column) on a syntax error, a render error, when a cap of
 * `engine/limits.ts` would be passed, or when time is up ("rendering took longer than the verdict
 * deadline")
 */
export function renderTemplate(
  template: string,
  data: unknown,
  options?: TemplateOptions,
): string {
  const budget = new RenderBudget({ signal: options?.signal, deadline: options?.deadline });
  const escape = options?.escape ?? "none";
  try {
    budget.tick();
    const compiled = compile(template, escape);
    const variables = data !== null && typeof data === "object" && !Array.isArray(data)
      ? Object.fromEntries(Object.entries(data))
      : {};
    const output = withBudget(budget, () => compiled.render(variables));
    if (output.length > MAX_TEMPLATE_OUTPUT) {
      throw new RangeError(`Template output exceeds ${MAX_TEMPLATE_OUTPUT} characters`);
    }
    return output;
  } catch (error) {
    throw error instanceof TemplateError ? error : toTemplateError(error);
  }
}
