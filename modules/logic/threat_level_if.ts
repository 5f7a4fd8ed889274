/**
 * `threat-level-if` (IF :: Threat Level, v0.1): compares `Event.threat_level_id` with a threat
 * level (reference §7.6, errata 25). The default `'Low'` is MISP's bug, kept on purpose.
 *
 * @module
 */

import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { IF_BLOCK } from "./if_block.ts";
import { isPhpArray, looseCompare, looseEquals } from "../../engine/php_compare.ts";

/** IF :: Threat Level: a lower id is a more severe threat, hence the inverted comparisons. */
export const threatLevelIf: WorkflowModule = {
  descriptor: {
    id: "threat-level-if",
    name: "IF :: Threat Level",
    version: "0.1",
    description:
      "Threat Level IF / ELSE condition block. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.",
    ...IF_BLOCK,
    expect_misp_core_format: false,
    params: [
      {
        id: "condition",
        label: "Condition",
        type: "select",
        default: "equals",
        options: {
          equals: "Is",
          not_equals: "Is not",
          greater_or_equal_than: "Greater or equal than",
          less_or_equal_than: "Less or equal than",
        },
      },
      {
        id: "threatlevel",
        label: "Threat Level",
        type: "select",
        default: "Low",
        options: { "1": "High", "2": "Medium", "3": "Low", "4": "Undefined" },
        placeholder: "Pick a threat level",
      },
    ],
  },
  exec(context: ModuleContext): boolean {
    const { condition, threatlevel: selected } = context.params;
    const event = context.roaming.getData().Event;
    const level = isPhpArray(event)
      ? (event as Record<string, unknown>).threat_level_id ?? null
      : null;
    context.observe("threat_level_id", level);
    context.observe("selected", selected);
    if (looseEquals(condition, "equals")) return looseEquals(level, selected);
    if (looseEquals(condition, "not_equals")) return !looseEquals(level, selected);
    if (looseEquals(condition, "greater_or_equal_than")) return looseCompare(level, selected) <= 0;
    if (looseEquals(condition, "less_or_equal_than")) return looseCompare(selected, level) <= 0;
    return false;
  },
};
