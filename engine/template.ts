/**
 * Jinja-compatible templates for `jinja_supported` params, rendered with `nunjucks` inside a
 * sandbox: variable and member lookups only see own data properties, only template macros and
 * `range()` can be called, there are no loaders, and every interpolated value is escaped for where
 * the text goes (HTML mail, JSON payload, Slack, Telegram). Renders are bounded by construction:
 * loops, output, every string and list a filter or operator builds (checked before it is
 * allocated), regex literals run on RE2, and time (`MAX_TEMPLATE_RENDER_MS`, or the caller's
 * deadline or abort signal, checked at every loop iteration, filter and output).
 *
 * @module
 */

import nunjucks from "nunjucks";
import type { TemplateEscape } from "./model.ts";
import type { TemplateOptions } from "./module_services.ts";
import { MAX_TEMPLATE_OUTPUT, TEMPLATE_CACHE_ENTRIES } from "./limits.ts";
import { currentBudget, RenderBudget, withBudget } from "./template_budget.ts";
import { compileSandboxed, type SandboxHooks } from "./template_compiler.ts";
import { type FilterTable, installFilters, templateRange } from "./template_filters.ts";
import { compileTemplateRegex } from "./template_regex.ts";
import {
  addValues,
  concatValues,
  ensureValueSize,
  isBlockedMember,
  lookupMember,
  SafeString,
  stringify,
} from "./template_values.ts";

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

/** Globals a template may call besides its own macros. */
const CALLABLE_GLOBALS = new Map<string, (...args: unknown[]) => unknown>([
  ["range", templateRange as (...args: unknown[]) => unknown],
]);
const callableGlobals = new Set<unknown>(CALLABLE_GLOBALS.values());

function countIterations(value: unknown): void {
  let count = 0;
  if (Array.isArray(value) || typeof value === "string") count = value.length;
  else if (value !== null && typeof value === "object") count = Object.keys(value).length;
  const budget = currentBudget();
  budget.tick();
  budget.countIterations(count);
}

function createRuntime(escape: TemplateEscape): Runtime {
  const escaper = ESCAPERS[escape];
  const macros = new WeakSet<object>();
  const hooks: SandboxHooks = {
    templateAdd: (left, right) => {
      currentBudget().step();
      return addValues(left, right, 'The "+" operator');
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
    templateRegex: (source, flags) => compileTemplateRegex(source, flags),
  };
  return {
    ...baseRuntime,
    ...hooks,
    memberLookup: (value: unknown, key: unknown) => lookupMember(value, key),
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
    callWrap: (fn: unknown, name: string, context: unknown, args: unknown[]) => {
      currentBudget().step();
      if (typeof fn === "function" && callableGlobals.has(fn)) return fn(...args);
      if (typeof fn !== "function" || !macros.has(fn)) {
        throw new TypeError(`Cannot call "${name}": only template macros can be called`);
      }
      return fn.apply(context, args);
    },
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

function compile(template: string, escape: TemplateEscape): nunjucks.Template {
  const key = `${escape}\u0000${template}`;
  const cached = cache.get(key);
  if (cached) {
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  let compiled: nunjucks.Template;
  try {
    compiled = compileSandboxed(() =>
      new nunjucks.Template(template, environment, undefined, true)
    );
  } catch (error) {
    throw toTemplateError(error);
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
