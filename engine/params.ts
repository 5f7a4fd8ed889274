/**
 * Param resolution for one node execution (MISP's `getParamsWithValues`, reference §3.2).
 *
 * @module
 */

import type { JsonObject, ModuleDescriptor, WorkflowNode } from "./model.ts";
import type { TemplateRenderer } from "./module_services.ts";

/** A Jinja param failed to render: the node fails with the template's own message (line included). */
export class ParamRenderError extends Error {
  /** The param whose template failed. */
  readonly param: string;

  /** Wraps the template error of param `param`. */
  constructor(param: string, options: ErrorOptions) {
    const cause = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`Cannot render param "${param}": ${cause}`, options);
    this.name = "ParamRenderError";
    this.param = param;
  }
}

/**
 * Resolves every declared param of `descriptor` for `node`: the node's value, or (when missing or
 * null) the default, or `''`; Jinja-enabled non-empty strings are rendered against `data`. Values
 * the module does not declare are ignored, as in MISP.
 *
 * Deliberate difference: MISP turns a render error into `''`; Flowgate throws `ParamRenderError`
 * so the node fails with the template's line.
 */
export function resolveParams(
  descriptor: ModuleDescriptor,
  node: WorkflowNode,
  data: JsonObject,
  render: TemplateRenderer,
): Record<string, unknown> {
  const indexed = Array.isArray(node.params) ? {} : (node.params ?? {});
  const values: Record<string, unknown> = {};
  for (const param of descriptor.params) {
    let value: unknown = (indexed as Record<string, unknown>)[param.id] ?? null;
    value = value ?? param.default ?? "";
    if (param.jinja_supported && typeof value === "string" && value !== "") {
      try {
        value = render(value, data, param.escape ? { escape: param.escape } : undefined);
      } catch (cause) {
        throw new ParamRenderError(param.id, { cause });
      }
    }
    values[param.id] = value;
  }
  return values;
}
