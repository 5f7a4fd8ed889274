/**
 * Jinja-compatible templates for `jinja_supported` params, rendered with `nunjucks` inside a
 * sandbox: variable and member lookups only see own data properties, only template macros can be
 * called, there are no globals and no loaders, loops and output are capped, and every interpolated
 * value is escaped for where the text goes (HTML mail, JSON payload, Slack, Telegram).
 *
 * @module
 */

import nunjucks from "nunjucks";
import type { TemplateEscape } from "./model.ts";
import type { TemplateOptions } from "../modules/services.ts";
import { MAX_TEMPLATE_ITERATIONS, MAX_TEMPLATE_OUTPUT, TEMPLATE_CACHE_ENTRIES } from "./limits.ts";

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

/** Member names never resolved, even when own properties (defence in depth). */
const BLOCKED_MEMBERS = new Set(["constructor", "__proto__", "prototype"]);

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

/** Per-render counters; renders are synchronous, so one active budget at a time is enough. */
interface RenderBudget {
  iterations: number;
  output: number;
}

let activeBudget: RenderBudget = { iterations: 0, output: 0 };

type Runtime = typeof nunjucks.runtime;
type SafeStringClass = new (value: string) => unknown;
const baseRuntime = nunjucks.runtime as Runtime & {
  SafeString: SafeStringClass;
  Frame: unknown;
  fromIterator: (value: unknown) => unknown;
  makeMacro: (...args: unknown[]) => (...args: unknown[]) => unknown;
};
const SafeString = baseRuntime.SafeString;

/** Own, non-blocked data member of a value, or undefined; never a function. */
function lookupMember(value: unknown, key: unknown): unknown {
  if (value === null || value === undefined || typeof value === "function") return undefined;
  const name = String(key);
  if (BLOCKED_MEMBERS.has(name)) return undefined;
  if (!Object.hasOwn(Object(value), name)) return undefined;
  const member = (value as Record<string, unknown>)[name];
  return typeof member === "function" ? undefined : member;
}

/** Follows a dotted path (`Tag.name`) through own data members, as Jinja's `attribute=`. */
function lookupPath(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split(".")) current = lookupMember(current, part);
  return current;
}

function countIterations(value: unknown): void {
  let count = 0;
  if (Array.isArray(value) || typeof value === "string") count = value.length;
  else if (value !== null && typeof value === "object") count = Object.keys(value).length;
  activeBudget.iterations += count;
  if (activeBudget.iterations > MAX_TEMPLATE_ITERATIONS) {
    throw new RangeError(`Template runs more than ${MAX_TEMPLATE_ITERATIONS} loop iterations`);
  }
}

function stringify(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object" && !(value instanceof SafeString)) {
    try {
      return JSON.stringify(value) ?? "";
    } catch {
      return String(value);
    }
  }
  return String(value);
}

function createRuntime(escape: TemplateEscape): Runtime {
  const escaper = ESCAPERS[escape];
  const macros = new WeakSet<object>();
  return {
    ...baseRuntime,
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
      if (BLOCKED_MEMBERS.has(name) || !Object.hasOwn(context.ctx, name)) return undefined;
      const value = context.ctx[name];
      return typeof value === "function" && !macros.has(value) ? undefined : value;
    },
    callWrap: (fn: unknown, name: string, context: unknown, args: unknown[]) => {
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
      const text = value instanceof SafeString ? String(value) : escaper(stringify(value));
      activeBudget.output += text.length;
      if (activeBudget.output > MAX_TEMPLATE_OUTPUT) {
        throw new RangeError(`Template output exceeds ${MAX_TEMPLATE_OUTPUT} characters`);
      }
      return text;
    },
  } as Runtime;
}

/** Jinja's `tojson`: JSON with `<`, `>`, `&` and `'` escaped, so it is also safe inside HTML. */
function toJson(value: unknown, indent?: number): unknown {
  const json = (JSON.stringify(value ?? null, null, indent) ?? "null")
    .replaceAll("<", "\\u003c").replaceAll(">", "\\u003e").replaceAll("&", "\\u0026")
    .replaceAll("'", "\\u0027");
  return new SafeString(json);
}

/** Jinja's `format`: printf-style `%s`, `%d`, `%i`, `%f`, `%.Nf`, `%x`, `%r` and `%%`. */
function formatString(template: unknown, ...args: unknown[]): string {
  let index = 0;
  return String(template ?? "").replace(
    /%(\.(\d+))?([sdifxr%])/g,
    (_match, _precision, digits: string | undefined, kind: string) => {
      if (kind === "%") return "%";
      const value = args[index++];
      switch (kind) {
        case "d":
        case "i":
          return String(Math.trunc(Number(value)));
        case "f":
          return Number(value).toFixed(digits === undefined ? 6 : Number(digits));
        case "x":
          return Math.trunc(Number(value)).toString(16);
        case "r":
          return JSON.stringify(value) ?? "None";
        default:
          return stringify(value);
      }
    },
  );
}

/**
 * Jinja's `groupby`: a list of `[grouper, items]` pairs sorted by grouper, each pair also carrying
 * `grouper` and `list`, so both `for key, items in …` and `group.grouper` work.
 */
function groupBy(items: unknown, attribute: unknown): unknown[] {
  const groups = new Map<string, { grouper: unknown; list: unknown[] }>();
  for (const item of Array.isArray(items) ? items : []) {
    const grouper = lookupPath(item, String(attribute));
    const key = stringify(grouper);
    const group = groups.get(key) ?? { grouper, list: [] };
    group.list.push(item);
    groups.set(key, group);
  }
  return [...groups.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    .map(([, group]) => Object.assign([group.grouper, group.list], group));
}

function isKeywordArgs(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" &&
    Object.hasOwn(value, "__keywords");
}

function createEnvironment(): nunjucks.Environment {
  const environment = new nunjucks.Environment([], {
    autoescape: true,
    throwOnUndefined: false,
  });
  const internals = environment as unknown as {
    globals: Record<string, unknown>;
    filters: Record<string, unknown>;
    tests: Record<string, unknown>;
    getFilter: (name: string) => unknown;
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
  environment.addFilter("tojson", toJson);
  environment.addFilter("format", formatString);
  environment.addFilter("groupby", groupBy);
  environment.addFilter("map", function (this: unknown, items: unknown, ...args: unknown[]) {
    const keywords = isKeywordArgs(args.at(-1)) ? args.pop() as Record<string, unknown> : {};
    const list = Array.isArray(items) ? items : [];
    if (typeof keywords.attribute === "string") {
      const path = keywords.attribute;
      return list.map((item) => lookupPath(item, path) ?? keywords.default);
    }
    const [filterName, ...filterArgs] = args;
    if (typeof filterName !== "string") return list;
    const filter = internals.getFilter(filterName) as (...values: unknown[]) => unknown;
    return list.map((item) => filter.call(this, item, ...filterArgs));
  });
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
    .replaceAll(/\b(Template render error|Error|RangeError|TypeError): /g, "")
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
    compiled = new nunjucks.Template(template, environment, undefined, true);
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
 * Undefined values render as ''. Throws `TemplateError` (with line and column) on a syntax error,
 * a render error, or when a loop or output cap is passed.
 */
export function renderTemplate(
  template: string,
  data: unknown,
  options?: TemplateOptions,
): string {
  const escape = options?.escape ?? "none";
  const compiled = compile(template, escape);
  const variables = data !== null && typeof data === "object" && !Array.isArray(data)
    ? Object.fromEntries(Object.entries(data))
    : {};
  const previous = activeBudget;
  activeBudget = { iterations: 0, output: 0 };
  try {
    const output = compiled.render(variables);
    if (output.length > MAX_TEMPLATE_OUTPUT) {
      throw new RangeError(`Template output exceeds ${MAX_TEMPLATE_OUTPUT} characters`);
    }
    return output;
  } catch (error) {
    throw error instanceof TemplateError ? error : toTemplateError(error);
  } finally {
    activeBudget = previous;
  }
}
