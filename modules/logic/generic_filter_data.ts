/**
 * `generic-filter-data` (Filter :: Generic, v0.2): enables a filter under a label; every later
 * `getData()` returns the filtered view (reference §6.8.2, errata 29–31).
 *
 * @module
 */

import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { CONDITION_PARAMS, conditionValue } from "./condition_params.ts";
import { filterBlockDescriptor, FILTERING_LABEL_PARAM, withFilter } from "./filter_block.ts";

/** Filter :: Generic: snapshots the data before the first filter, then records the filter. */
export const genericFilterData: WorkflowModule = {
  descriptor: filterBlockDescriptor({
    id: "generic-filter-data",
    name: "Filter :: Generic",
    version: "0.2",
    description:
      "Generic data filtering block. The module filters incoming data and forward the matching data to its output.",
    params: [
      FILTERING_LABEL_PARAM,
      {
        id: "selector",
        label: "Data selector",
        type: "hashpath",
        placeholder: "Event._AttributeFlattened.{n}",
        hashpath: { is_sub_selector: false },
      },
      ...CONDITION_PARAMS,
      {
        id: "hash_path",
        label: "Hash path",
        type: "hashpath",
        placeholder: "Tag.name",
        hashpath: { is_sub_selector: true },
      },
    ],
  }),
  exec(context: ModuleContext): boolean {
    const params = context.params;
    const label = String(params["filtering-label"]);
    const filter = {
      selector: params.selector,
      path: params.hash_path,
      operator: params.operator,
      value: conditionValue(params),
    };
    context.observe("filter", { label, ...filter });
    context.roaming.setData(withFilter(context.roaming.getData(), { [label]: filter }));
    return true;
  },
};
