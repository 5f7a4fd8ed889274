/**
 * `filter-timestamp` (Filter :: Timestamp 0.1, newer than MISP 2.5.1): enables a filter on the
 * `timestamp` of the attributes, objects or event reports, against a time MISP resolves from the
 * value (`30d`, `12h`, a Unix time, a date) with `resolveTimeDelta`.
 *
 * MISP quirks copied: the filter's operators `greater` (Within) and `less` (Not within) are not
 * known to the `evaluateCondition` of any MISP base class indexed, so the filter keeps no item;
 * `since` with a non-numeric value returns false (the path ends); an unknown target gives a
 * filter without selector; the attribute target also adds `<label>_2` on `Event.Attribute`.
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { isNumeric, looseEquals } from "../../engine/php_compare.ts";
import { filterBlockDescriptor, FILTERING_LABEL_PARAM, withFilter } from "./filter_block.ts";
import { phpIntval } from "./php_values.ts";

const SECONDS_PER_UNIT: Record<string, number> = { d: 86_400, h: 3_600, m: 60, s: 1 };

/** Filter :: Timestamp: filters attributes, objects or reports by their timestamp. */
export const filterTimestamp: WorkflowModule = {
  descriptor: filterBlockDescriptor({
    id: "filter-timestamp",
    name: "Filter :: Timestamp",
    version: "0.1",
    description:
      "Timestamp filtering block. The module filters incoming data and forward the matching data to its output.",
    params: [
      FILTERING_LABEL_PARAM,
      {
        id: "target",
        label: "Target",
        type: "select",
        default: "attribute",
        options: { object: "Object", attribute: "Attribute", event_report: "Event Report" },
      },
      {
        id: "operator",
        label: "Operator",
        type: "select",
        default: "greater",
        options: { greater: "Within", less: "Not within", since: "Since (timestamp)" },
      },
      { id: "value", label: "Value", type: "input", placeholder: "3d", default: "30d" },
    ],
  }),
  exec(context: ModuleContext): boolean {
    const { params } = context;
    let operator = params.operator;
    if (looseEquals(operator, "since")) {
      if (!isNumeric(params.value)) {
        context.observe("since", `not a Unix time: ${JSON.stringify(params.value)}`);
        return false;
      }
      operator = "greater";
    }
    const label = String(params["filtering-label"]);
    const selector = selectorOf(params.target);
    const value = resolveTimeDelta(params.value, Math.floor(context.services.now() / 1000));
    const filters: Record<string, JsonObject> = {
      [label]: { selector, path: "timestamp", operator, value },
    };
    if (looseEquals(params.target, "attribute")) {
      filters[`${label}_2`] = { selector: "Event.Attribute", path: "timestamp", operator, value };
    }
    context.observe("filters", filters);
    context.roaming.setData(withFilter(context.roaming.getData(), filters));
    return true;
  },
};

function selectorOf(target: unknown): string | null {
  if (looseEquals(target, "object")) return "Event.Object";
  if (looseEquals(target, "attribute")) return "Event._AttributeFlattened";
  if (looseEquals(target, "event_report")) return "Event.EventReport";
  return null;
}

/**
 * MISP's `AppModel::resolveTimeDelta` at Unix time `now`: a number is taken as a Unix time
 * (`(int)`), `<n>d|h|m|s` counts back from now, anything else is a date (PHP's `strtotime`, here
 * `Date.parse`, so relative English phrases are not understood); what cannot be read is
 * `now + 1`, a time no item has yet.
 */
export function resolveTimeDelta(delta: unknown, now: number): number {
  if (isNumeric(delta)) return phpIntval(delta);
  const text = typeof delta === "string" ? delta : String(delta ?? "");
  const unit = SECONDS_PER_UNIT[text.slice(-1).toLowerCase()];
  if (unit !== undefined) {
    const amount = text.slice(0, -1);
    return isNumeric(amount) ? now - Number(amount.trim()) * unit : now + 1;
  }
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? now + 1 : Math.floor(parsed / 1000);
}
