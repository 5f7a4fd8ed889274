/**
 * Every logic module, listed once for the registry.
 *
 * @module
 */

import type { WorkflowModule } from "../../engine/module.ts";
import { aggregateComparatorIf } from "./aggregate_comparator_if.ts";
import { concurrentTask } from "./concurrent_task.ts";
import { countIf } from "./count_if.ts";
import { distributionIf } from "./distribution_if.ts";
import { filterTag } from "./filter_tag.ts";
import { filterTimestamp } from "./filter_timestamp.ts";
import { genericFilterData } from "./generic_filter_data.ts";
import { genericFilterReset } from "./generic_filter_reset.ts";
import { genericIf } from "./generic_if.ts";
import { organisationIf } from "./organisation_if.ts";
import { publishedIf } from "./published_if.ts";
import { tagIf } from "./tag_if.ts";
import { threatLevelIf } from "./threat_level_if.ts";

/** MISP's logic modules (2.5.1, plus the newer filter and aggregate blocks), by file name. */
export const LOGIC_MODULES: WorkflowModule[] = [
  aggregateComparatorIf,
  concurrentTask,
  countIf,
  distributionIf,
  filterTag,
  filterTimestamp,
  genericFilterData,
  genericFilterReset,
  genericIf,
  organisationIf,
  publishedIf,
  tagIf,
  threatLevelIf,
];
