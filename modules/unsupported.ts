/**
 * MISP modules Flowgate knows but cannot run: their descriptors (so MISP workflows holding them
 * import with their params, and validation names the module and the reason instead of "unknown
 * module") and why each is not supported.
 *
 * @module
 */

import type { ModuleDescriptor } from "../engine/model.ts";

/**
 * `send-report-to-cti-info-extractor` as MISP 2.4-develop declares it (`Module_send_report_to_
 * CTIInfoExtractor.php` 0.1, four yes/no params, all `yes`). Newer MISP keeps the id for
 * "Summarise report with AI" (`Module_ai_summarize_report.php` 0.2), which has no params and
 * ignores these.
 */
export const SEND_REPORT_TO_CTI_INFO_EXTRACTOR: ModuleDescriptor = {
  id: "send-report-to-cti-info-extractor",
  name: "Send Report to CTI Info Extractor",
  version: "0.1",
  description: "Send selected Event Report to the CTI Info Extractor Endpoint",
  module_type: "action",
  icon: "robot",
  inputs: 1,
  outputs: 1,
  blocking: false,
  expect_misp_core_format: true,
  support_filters: true,
  multiple_output_connection: false,
  params: [
    ["insert_executive_summary", "Insert Executive Summary"],
    ["tag_event_with_threat_actor", "Tag Event with Threat Actor"],
    ["tag_event_with_threat_actor_country", "Tag Event with Threat Actor Country"],
    ["tag_event_with_threat_actor_motivation", "Tag Event with Threat Actor Motivation"],
  ].map(([id = "", label = ""]) => ({
    id,
    label,
    type: "select",
    options: { no: "No", yes: "Yes" },
    default: "yes",
  })),
  unsupported:
    "it sends event reports to MISP's internal AI services (Plugin.CTIInfoExtractor_url, newer MISP's EventReport::aiSummarize) and edits the reports inside MISP; there is no REST equivalent. Keep this node in a workflow MISP runs itself",
};

/** Every known but unsupported MISP module, by id. */
export const UNSUPPORTED_MODULES: readonly ModuleDescriptor[] = [SEND_REPORT_TO_CTI_INFO_EXTRACTOR];
