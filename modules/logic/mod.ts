/**
 * Every logic module, listed once for the registry.
 *
 * @module
 */

import type { WorkflowModule } from "../../engine/module.ts";
import { concurrentTask } from "./concurrent_task.ts";
import { countIf } from "./count_if.ts";
import { distributionIf } from "./distribution_if.ts";
import { genericFilterData } from "./generic_filter_data.ts";
import { genericFilterReset } from "./generic_filter_reset.ts";
import { genericIf } from "./generic_if.ts";
import { organisationIf } from "./organisation_if.ts";
import { publishedIf } from "./published_if.ts";
import { tagIf } from "./tag_if.ts";
import { threatLevelIf } from "./threat_level_if.ts";

/** MISP's logic modules (2.5.1 snapshot), in the order MISP lists them. */
export const LOGIC_MODULES: WorkflowModule[] = [
  concurrentTask,
  countIf,
  distributionIf,
  genericFilterData,
  genericFilterReset,
  genericIf,
  organisationIf,
  publishedIf,
  tagIf,
  threatLevelIf,
];
