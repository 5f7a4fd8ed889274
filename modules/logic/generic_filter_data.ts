/**
 * `generic-filter-data` (Filter :: Generic, v0.2): enables a filter under a label; every later
 * `getData()` returns the filtered view (reference §6.8.2, errata 29–31).
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { isPhpArray, phpEmpty } from "../../engine/php_compare.ts";
import { CONDITION_PARAMS, conditionValue } from "./condition_params.ts";

/** MISP's filtering labels `A`–`F` with their display names. */
export const FILTERING_LABELS: Record<string, string> = {
  A: "Label A",
  B: "Label B",
  C: "Label C",
  D: "Label D",
  E: "Label E",
  F: "Label F",
};

/** Filter :: Generic: snapshots the data before the first filter, then records the filter. */
export const genericFilterData: WorkflowModule = {
  descriptor: {
    id: "generic-filter-data",
    name: "Filter :: Generic",
    version: "0.2",
    description:
      "Generic data filtering block. The module filters incoming data and forward the matching data to its output.",
    module_type: "logic",
    icon: "filter",
    inputs: 1,
    outputs: 1,
    blocking: false,
    expect_misp_core_format: false,
    support_filters: false,
    multiple_output_connection: false,
    params: [
      {
        id: "filtering-label",
        label: "Filtering Label",
        type: "select",
        options: FILTERING_LABELS,
        default: "A",
      },
      {
        id: "selector",
        label: "Data selector",
        type: "input",
        placeholder: "Event._AttributeFlattened.{n}",
      },
      ...CONDITION_PARAMS,
      { id: "hash_path", label: "Hash path", type: "input", placeholder: "Tag.name" },
    ],
  },
  exec(context: ModuleContext): boolean {
    const params = context.params;
    const label = String(params["filtering-label"]);
    const data = context.roaming.getData();
    const next: JsonObject = { ...data };
    if (phpEmpty(next._unfilteredData)) next._unfilteredData = data;
    const filters = isPhpArray(next.enabledFilters) ? { ...next.enabledFilters } : {};
    const filter = {
      selector: params.selector,
      path: params.hash_path,
      operator: params.operator,
      value: conditionValue(params),
    };
    next.enabledFilters = { ...filters, [label]: filter };
    context.observe("filter", { label, ...filter });
    context.roaming.setData(next);
    return true;
  },
};
