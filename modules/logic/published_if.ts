/**
 * `published-if` (IF :: Published): tests `Event.published` (reference §7.5, errata 27).
 *
 * @module
 */

import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { IF_BLOCK } from "./if_block.ts";
import { get } from "../../engine/hash_path.ts";
import { evaluateCondition } from "../../engine/conditions.ts";
import { phpEmpty } from "../../engine/php_compare.ts";

/** IF :: Published: `then` when the event is (or, with `not_equals`, is not) published. */
export const publishedIf: WorkflowModule = {
  descriptor: {
    id: "published-if",
    name: "IF :: Published",
    version: "0.1",
    description:
      "Published IF / ELSE condition block. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.",
    ...IF_BLOCK,
    expect_misp_core_format: true,
    enabled_by_default: true,
    params: [
      {
        id: "condition",
        label: "Condition",
        type: "select",
        default: "equals",
        options: { equals: "Event is published", not_equals: "Event is not published" },
      },
    ],
  },
  exec(context: ModuleContext): boolean {
    const published = !phpEmpty(get(context.roaming.getData(), "Event.published"));
    context.observe("published", published);
    return evaluateCondition(published, context.params.condition, true);
  },
};
