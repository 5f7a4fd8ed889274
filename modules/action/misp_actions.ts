/**
 * Actions that change MISP through its REST API (tags, attributes, events, warninglists…).
 *
 * @module
 */

import type { WorkflowModule } from "../module.ts";
import { addEventblocklistEntry } from "./add_eventblocklist_entry.ts";
import { addToWarninglist } from "./add_to_warninglist.ts";
import { assignCountry } from "./assign_country.ts";
import { attachDecayScore } from "./attach_decay_score.ts";
import { attachEnrichment } from "./attach_enrichment.ts";
import { attachWarninglist } from "./attach_warninglist.ts";
import { attributeCommentOperation } from "./attribute_comment_operation.ts";
import { attributeDistributionOperation } from "./attribute_distribution_operation.ts";
import { attributeIdsFlagOperation } from "./attribute_ids_flag_operation.ts";
import { enrichEvent } from "./enrich_event.ts";
import { eventDistributionOperation } from "./event_distribution_operation.ts";
import { proposalAction } from "./proposal_action.ts";
import { publishEvent } from "./publish_event.ts";
import { reloadFullEvent } from "./reload_full_event.ts";
import { tagOperation } from "./tag_operation.ts";
import { tagReplacementGeneric } from "./tag_replacement_generic.ts";
import { tagReplacementPap } from "./tag_replacement_pap.ts";
import { tagReplacementTlp } from "./tag_replacement_tlp.ts";

/** Every MISP-operation action module, listed once for the registry. */
export const MISP_ACTIONS: WorkflowModule[] = [
  addEventblocklistEntry,
  addToWarninglist,
  assignCountry,
  attachDecayScore,
  attachEnrichment,
  attachWarninglist,
  attributeCommentOperation,
  attributeDistributionOperation,
  attributeIdsFlagOperation,
  enrichEvent,
  eventDistributionOperation,
  proposalAction,
  publishEvent,
  reloadFullEvent,
  tagOperation,
  tagReplacementGeneric,
  tagReplacementPap,
  tagReplacementTlp,
];
