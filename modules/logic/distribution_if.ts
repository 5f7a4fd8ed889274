/**
 * `distribution-if` (IF :: Distribution, v0.3): tests the final distribution of the event or of
 * its first attribute, or its sharing groups (reference §7.3, errata 21–24).
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { IF_BLOCK } from "./if_block.ts";
import { evaluateCondition } from "../../engine/conditions.ts";
import { isPhpArray, looseEquals, phpEmpty } from "../../engine/php_compare.ts";
import { phpIntval, pickerValues } from "./php_values.ts";

type Row = Record<string, unknown>;

function mostRestrictive(first: number, second: number): number {
  if (first === 0 || second === 0) return 0;
  if (first === 4 || second === 4) return 4;
  return Math.min(first, second);
}

function propagated(event: Row, object: Row | null = null, attribute: Row | null = null): number {
  let final = 5;
  if (!phpEmpty(attribute)) final = phpIntval(attribute?.distribution);
  if (!phpEmpty(object)) final = mostRestrictive(final, phpIntval(object?.distribution));
  return mostRestrictive(final, phpIntval(event.distribution));
}

function sharingGroups(event: Row, object: Row | null, attribute: Row | null, scope: unknown) {
  const groups: unknown[] = [];
  if (!phpEmpty(event) && looseEquals(event.distribution, 4)) groups.push(event.sharing_group_id);
  if (looseEquals(scope, "event")) return groups;
  if (!phpEmpty(attribute) && looseEquals(attribute?.distribution, 4)) {
    groups.push(attribute?.sharing_group_id);
  }
  if (!phpEmpty(object) && looseEquals(object?.distribution, 4)) {
    groups.push(object?.sharing_group_id);
  }
  return groups;
}

/** PHP `array_diff`: the items of `from` whose string form is not in `others`. */
function arrayDiff(from: readonly unknown[], others: readonly unknown[]): unknown[] {
  const strings = new Set(others.map((item) => String(item)));
  return from.filter((item) => !strings.has(String(item ?? "")));
}

/** PHP `range(start, end)` for the small integer ranges this module builds. */
function range(start: number, end: number): number[] {
  const step = start <= end ? 1 : -1;
  const result: number[] = [];
  for (let value = start; step > 0 ? value <= end : value >= end; value += step) result.push(value);
  return result;
}

function requireEvent(data: JsonObject): Row {
  const event = data.Event;
  if (!isPhpArray(event) || Array.isArray(event)) {
    throw new TypeError('The data has no "Event": this module needs an event in MISP core format');
  }
  return event as Row;
}

/** `Event.Attribute[0]`, which MISP reads without checking (a TypeError when absent). */
function firstAttribute(event: Row, reason: string): { attribute: Row; object: Row | null } {
  const attributes = event.Attribute;
  const attribute = isPhpArray(attributes) ? (attributes as Row)[0] : undefined;
  if (!isPhpArray(attribute)) {
    throw new TypeError(
      `The event has no "Event.Attribute[0]": ${reason} (object attributes are not looked at)`,
    );
  }
  const row = attribute as Row;
  const object = isPhpArray(row.Object) ? row.Object as Row : null;
  return { attribute: row, object };
}

/** IF :: Distribution: `then` when the distribution (or sharing group) condition holds. */
export const distributionIf: WorkflowModule = {
  descriptor: {
    id: "distribution-if",
    name: "IF :: Distribution",
    version: "0.3",
    description:
      "Distribution IF / ELSE condition block. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.",
    ...IF_BLOCK,
    expect_misp_core_format: true,
    enabled_by_default: true,
    params: [
      {
        id: "scope",
        label: "Scope",
        type: "select",
        options: {
          attribute: "Final distribution of the Attribute",
          event: "Distribution of the Event",
        },
        default: "attribute",
      },
      {
        id: "condition",
        label: "Condition",
        type: "select",
        default: "equals",
        options: {
          equals: "Is",
          not_equals: "Is not",
          more_restrictive_or_equal_than: "More restrictive or equal than",
          more_permisive_or_equal_than: "More permisive or equal than",
        },
      },
      {
        id: "distribution",
        label: "Distribution",
        type: "select",
        default: "0",
        options: [
          { name: "Organisation", value: 0 },
          { name: "Community", value: 1 },
          { name: "Connected", value: 2 },
          { name: "All", value: 3 },
          { name: " Sharing Group", value: 4 },
        ],
        placeholder: "Pick a distribution",
      },
      {
        id: "sharing_group_id",
        label: "Sharing Groups",
        type: "picker",
        multiple: true,
        default: [],
        placeholder: "Pick a sharing group",
        display_on: { distribution: "4" },
      },
    ],
  },
  exec(context: ModuleContext): boolean {
    const { scope, condition, distribution: selected, sharing_group_id: sgParam } = context.params;
    const data = context.roaming.getData();
    const event = requireEvent(data);
    const selectedGroups = pickerValues(sgParam);
    let final = propagated(event);
    if (looseEquals(scope, "attribute")) {
      const { attribute, object } = firstAttribute(event, 'scope "attribute" reads it');
      final = propagated(event, object, attribute);
    }
    context.observe("final_distribution", final);
    if (![0, 1, 2, 3, 4].includes(final)) {
      context.errors.push("Distribution level not supported");
      return false;
    }
    if (looseEquals(selected, 4)) {
      const { attribute, object } = firstAttribute(
        event,
        "the sharing group check reads it whatever the scope",
      );
      const groups = sharingGroups(event, object, attribute, scope);
      context.observe("sharing_groups", groups);
      if (looseEquals(condition, "equals")) {
        return selectedGroups.length === 0
          ? groups.length > 0
          : arrayDiff(groups, selectedGroups).length === 0;
      }
      if (looseEquals(condition, "not_equals")) {
        return selectedGroups.length === 0
          ? groups.length === 0
          : arrayDiff(groups, selectedGroups).length === groups.length;
      }
      context.errors.push("Condition operator not supported for that distribution level");
      return false;
    }
    let operator = condition;
    let compared: unknown;
    if (looseEquals(condition, "more_restrictive_or_equal_than")) {
      operator = "in";
      compared = range(0, phpIntval(selected));
    } else if (looseEquals(condition, "more_permisive_or_equal_than")) {
      operator = "in";
      compared = range(phpIntval(selected), 3);
    } else {
      compared = phpIntval(selected);
    }
    return evaluateCondition(compared, operator, final);
  },
};
