/**
 * The name of a trigger's misp-modules action module: what Flowgate lists on `/modules` and what
 * MISP shows (and stores as the node's `data.id`) in its workflow editor.
 *
 * @module
 */

/** Prefix of Flowgate's module names: `flowgate_<trigger id with - as _>`. */
export const MODULE_NAME_PREFIX = "flowgate_";

/**
 * The misp-modules name of a trigger's action module, e.g. `flowgate_event_publish`. Lowercase
 * ASCII with `_`, so MISP's id for it (`Inflector::underscore(name)`) is the name itself.
 */
export function moduleNameOf(triggerId: string): string {
  return MODULE_NAME_PREFIX + triggerId.replaceAll("-", "_");
}
