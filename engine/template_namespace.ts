/**
 * Jinja2's `namespace()`: the one value a template may change in place (`{% set ns.x = … %}`), so
 * that a loop can carry a result out of its scope, as in Jinja2, where a `{% set %}` inside a
 * loop is local to the iteration. Attributes are own data properties, so the template's lookups,
 * printing and size measures see them as a dict's items.
 *
 * @module
 */

/**
 * A Jinja2 namespace: its attributes are its own enumerable properties, defined (never assigned)
 * so that a name such as `__proto__` stays a plain attribute.
 */
export class TemplateNamespace {}

/** Tells whether `value` is a namespace made by `namespace()`. */
export function isNamespace(value: unknown): boolean {
  return value instanceof TemplateNamespace;
}

function defineMember(target: TemplateNamespace, name: string, value: unknown): void {
  Object.defineProperty(target, name, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

function isKeywords(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && Object.hasOwn(value, "__keywords");
}

/**
 * `namespace(mapping, key=value, …)` as Jinja2 (`dict(*args, **kwargs)`): at most one positional
 * argument, a dict or a list of `[key, value]` pairs, then the keyword arguments.
 *
 * @throws {TypeError} on a second positional argument or one that is not a dict or pairs
 */
export function createNamespace(...args: unknown[]): TemplateNamespace {
  const keywords = isKeywords(args.at(-1)) ? args.pop() as Record<string, unknown> : {};
  if (args.length > 1) {
    throw new TypeError(`namespace() takes at most 1 positional argument (${args.length} given)`);
  }
  const namespace = new TemplateNamespace();
  const [initial] = args;
  if (Array.isArray(initial)) {
    for (const pair of initial) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError("namespace() needs a dict or a list of [key, value] pairs");
      }
      defineMember(namespace, String(pair[0]), pair[1]);
    }
  } else if (initial !== null && typeof initial === "object" && !isNamespace(initial)) {
    for (const [key, value] of Object.entries(initial)) defineMember(namespace, key, value);
  } else if (initial !== undefined) {
    throw new TypeError("namespace() needs a dict or a list of [key, value] pairs");
  }
  for (const [key, value] of Object.entries(keywords)) {
    if (key !== "__keywords") defineMember(namespace, key, value);
  }
  return namespace;
}

/**
 * `{% set target.name = value %}`: only a namespace's attributes can be set, as in Jinja2.
 *
 * @throws {TypeError} "cannot assign attribute on non-namespace object" for anything else
 */
export function setNamespaceMember(target: unknown, name: string, value: unknown): void {
  if (!(target instanceof TemplateNamespace)) {
    throw new TypeError(
      `Cannot set "${name}": cannot assign attribute on non-namespace object ` +
        "(make it with namespace(), as in Jinja2)",
    );
  }
  defineMember(target, name, value);
}
