/**
 * `generic-filter-reset` (Filter :: Remove filter): goes back to the data as it was before the
 * first filter (reference §6.8.3, errata 29). Removing one label therefore removes them all.
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { isPhpArray } from "../../engine/php_compare.ts";
import { filterBlockDescriptor, FILTERING_LABELS } from "./filter_block.ts";

/** Filter :: Remove filter: restores the pre-filter snapshot, minus the removed label(s). */
export const genericFilterReset: WorkflowModule = {
  descriptor: filterBlockDescriptor({
    id: "generic-filter-reset",
    name: "Filter :: Remove filter",
    version: "0.1",
    description: "Reset filtering",
    icon: "redo-alt",
    params: [
      {
        id: "filtering-label",
        label: "Filtering Label to remove",
        type: "select",
        default: "all",
        options: { all: "All filters", ...FILTERING_LABELS },
      },
    ],
  }),
  exec(context: ModuleContext): boolean {
    const label = context.params["filtering-label"];
    const snapshot = context.roaming.getData()._unfilteredData;
    const base = isPhpArray(snapshot) && !Array.isArray(snapshot) ? snapshot as JsonObject : null;
    context.observe("label", label);
    if (label === "all") {
      // MISP auto-creates the array: without a snapshot the roaming data becomes {enabledFilters: []}.
      context.roaming.setData({ ...base, enabledFilters: [] });
      return true;
    }
    if (base === null) {
      throw new TypeError(
        `Cannot remove filter "${String(label)}": no filter was enabled before this node`,
      );
    }
    const next: JsonObject = { ...base };
    if (typeof label === "string" && label in FILTERING_LABELS && isPhpArray(next.enabledFilters)) {
      const { [label]: _removed, ...kept } = next.enabledFilters as Record<string, unknown>;
      next.enabledFilters = kept;
    }
    context.roaming.setData(next);
    return true;
  },
};
