/**
 * Actions that change MISP through its REST API (tags, attributes, events, warninglists…).
 *
 * @module
 */

import type { WorkflowModule } from "../../engine/module.ts";
import { addAnalystData } from "./add_analyst_data.ts";
import { addEventblocklistEntry } from "./add_eventblocklist_entry.ts";
import { addToWarninglist } from "./add_to_warninglist.ts";
import { assignCountry } from "./assign_country.ts";
import { attachDecayScore } from "./attach_decay_score.ts";
import { attachEnrichment } from "./attach_enrichment.ts";
import { attachWarninglist } from "./attach_warninglist.ts";
import { attributeCommentOperation } from "./attribute_comment_operation.ts";
import { attributeDistributionOperation } from "./attribute_distribution_operation.ts";
import { attributeEditionOperation } from "./attribute_edition_operation.ts";
import { attributeIdsFlagOperation } from "./attribute_ids_flag_operation.ts";
import { enrichEvent } from "./enrich_event.ts";
import { eventDistributionOperation } from "./event_distribution_operation.ts";
import { proposalAction } from "./proposal_action.ts";
import { publishEvent } from "./publish_event.ts";
import { reloadFullEvent } from "./reload_full_event.ts";
import { runWorkflowAction } from "./run_workflow_action.ts";
import { tagCountryAsnFromEnrichment } from "./tag_country_asn_from_enrichment.ts";
import { tagOperation } from "./tag_operation.ts";
import { tagReplacementGeneric } from "./tag_replacement_generic.ts";
import { tagReplacementPap } from "./tag_replacement_pap.ts";
import { tagReplacementTlp } from "./tag_replacement_tlp.ts";

/** Every MISP-operation action module, listed once for the registry. */
export const MISP_ACTIONS: WorkflowModule[] = [
  addAnalystData,
  addEventblocklistEntry,
  addToWarninglist,
  assignCountry,
  attachDecayScore,
  attachEnrichment,
  attachWarninglist,
  attributeCommentOperation,
  attributeDistributionOperation,
  attributeEditionOperation,
  attributeIdsFlagOperation,
  enrichEvent,
  eventDistributionOperation,
  proposalAction,
  publishEvent,
  reloadFullEvent,
  runWorkflowAction,
  tagCountryAsnFromEnrichment,
  tagOperation,
  tagReplacementGeneric,
  tagReplacementPap,
  tagReplacementTlp,
];
