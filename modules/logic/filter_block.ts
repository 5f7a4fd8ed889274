/**
 * What MISP's filtering logic modules share (`WorkflowFilteringLogicModule`): the descriptor of a
 * one-output filter block, and the step every one of them takes: snapshot the data before the
 * first filter (`_unfilteredData`), then record its filters under `enabledFilters`.
 *
 * @module
 */

import type { JsonObject, ModuleDescriptor, ParamDescriptor } from "../../engine/model.ts";
import { isPhpArray, phpEmpty } from "../../engine/php_compare.ts";

/** MISP's filtering labels `A`–`F` with their display names. */
export const FILTERING_LABELS: Record<string, string> = {
  A: "Label A",
  B: "Label B",
  C: "Label C",
  D: "Label D",
  E: "Label E",
  F: "Label F",
};

/** The first param of every filter block: the label its filter is recorded under. */
export const FILTERING_LABEL_PARAM: ParamDescriptor = {
  id: "filtering-label",
  label: "Filtering Label",
  type: "select",
  options: FILTERING_LABELS,
  default: "A",
};

/** The fields that differ between filter blocks. */
export type FilterBlockFields =
  & Pick<ModuleDescriptor, "id" | "name" | "version" | "description" | "params">
  & Partial<Pick<ModuleDescriptor, "icon">>;

/** A filter block's descriptor: logic, one input, one output, MISP's filter icon unless given. */
export function filterBlockDescriptor(fields: FilterBlockFields): ModuleDescriptor {
  return {
    module_type: "logic",
    icon: "filter",
    inputs: 1,
    outputs: 1,
    blocking: false,
    expect_misp_core_format: false,
    support_filters: false,
    multiple_output_connection: false,
    ...fields,
  };
}

/**
 * A copy of `data` with `filters` added to `enabledFilters` (replacing same labels) and, when no
 * filter ran before, `_unfilteredData` set to `data` as it was.
 */
export function withFilter(data: JsonObject, filters: Record<string, JsonObject>): JsonObject {
  const next: JsonObject = { ...data };
  if (phpEmpty(next._unfilteredData)) next._unfilteredData = data;
  const enabled = isPhpArray(next.enabledFilters) ? { ...next.enabledFilters } : {};
  next.enabledFilters = { ...enabled, ...filters };
  return next;
}
