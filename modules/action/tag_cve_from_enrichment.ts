/**
 * `tag_cve_from_enrichment` (Tag attribute with CVE information 0.1, newer MISP; extends Webhook
 * there): for each `vulnerability` attribute, reads the CVE record from a Vulnerability-Lookup
 * instance (`GET <root>/api/cve/<id>` through `services.outboundFetch`), tags the attribute with
 * its CVSS score and threat level (and optionally the T1588.006 TTP) through MISP, then appends
 * "CVE Summary: …" to its comment, keeping the roaming data in step (reference §2.3, §3.3, §3.4).
 *
 * Deliberate differences: MISP extracts `Event._AttributeFlattened` from the filtered items, which
 * finds nothing once a selector is set, so Flowgate tags the attributes the filters select; MISP
 * declares the default `'1'` for `add_vulnerability_ttp`, which is neither option and acts as
 * "no", so Flowgate declares "no"; the comment is written on the attribute as tagged (MISP
 * overrides the roaming copy with the untagged one); 429 and 5xx from the lookup are transient.
 *
 * @module
 */

import type { JsonObject, ModuleDescriptor } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { TransientError } from "../../engine/module_errors.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { callMisp, requireMisp } from "./lib/misp_operation.ts";
import { isObject, matchingItemsForAttributes } from "./lib/node_filters.ts";
import { apiRootOf } from "./lib/outbound.ts";
import { createActionRedactor } from "./lib/redact.ts";
import { byId, updateAttributes } from "./lib/roaming_event.ts";
import { attachTag, attributeTarget, mirrorAttributeTag } from "./lib/tag_calls.ts";
import { isTransientStatus, quoteBody, sendHttpAction, webhookHeaders } from "./webhook.ts";

/** CIRCL's public Vulnerability-Lookup, MISP's hard-coded endpoint. */
export const VULNERABILITY_LOOKUP_ROOT = "https://vulnerability.circl.lu";

/** The tag MISP adds when `add_vulnerability_ttp` is "yes". */
export const VULNERABILITY_TTP_TAG =
  'misp-galaxy:mitre-attack-pattern="Vulnerabilities - T1588.006"';

/** CVSS versions in MISP's order of preference. */
const CVSS_KEYS = ["cvssV3_1", "cvssV4", "cvssV3", "cvssV2"];

/** MISP's text when the record has no description. */
const NO_SUMMARY = "No summary found";

/** MISP cuts the comment at this many characters. */
const MAX_COMMENT_LENGTH = 65_535;

/** Options of `createTagCveFromEnrichment`. */
export interface TagCveFromEnrichmentOptions {
  /** Vulnerability-Lookup root (default: `VULNERABILITY_LOOKUP_URL`, else CIRCL's). */
  lookupRoot?: string;
}

const DESCRIPTOR: ModuleDescriptor = mispActionDescriptor({
  id: "tag_cve_from_enrichment",
  name: "Tag attribute with CVE information",
  version: "0.1",
  description:
    "Tag an attribute based on CVE information extracted from CVE premium (not via an enrichment module). The CVSS score is used to create relevant tags, and the CVE summary is appended to the attribute comment.",
  icon: "globe",
  support_filters: true,
  params: [
    {
      id: "locality",
      label: "Tag locality",
      type: "select",
      options: { local: "Local", global: "Global" },
      default: "local",
    },
    {
      id: "add_vulnerability_ttp",
      label: "Add vulnerability TTP (T1588.006)",
      type: "select",
      default: "no",
      options: { no: "No", yes: "Yes" },
    },
  ],
});

/** Builds the module with its Vulnerability-Lookup root (injected in tests). */
export function createTagCveFromEnrichment(
  options: TagCveFromEnrichmentOptions = {},
): WorkflowModule {
  return {
    descriptor: DESCRIPTOR,
    async exec(context: ModuleContext): Promise<boolean> {
      requireMisp(context);
      const root = apiRootOf(options.lookupRoot, {
        envName: "VULNERABILITY_LOOKUP_URL",
        fallback: VULNERABILITY_LOOKUP_ROOT,
      });
      const redactor = createActionRedactor(DESCRIPTOR, context);
      const local = context.params.locality === "local";
      const withTtp = context.params.add_vulnerability_ttp === "yes";
      const data = context.roaming.getData();
      const attributes = (matchingItemsForAttributes(context.node, data) ?? []).filter((item) =>
        item.type === "vulnerability" && String(item.value ?? "") !== ""
      );
      context.observe("cves", attributes.map((attribute) => String(attribute.value)));
      let success = false;
      for (const attribute of attributes) {
        const cve = String(attribute.value);
        const response = await sendHttpAction(context, {
          method: "GET",
          url: `${root}/api/cve/${encodeURIComponent(cve)}`,
          headers: webhookHeaders("application/json"),
          label: "Vulnerability-Lookup",
          details: { cve, attribute_id: String(attribute.id) },
        }, redactor);
        if (context.dryRun) {
          success = true;
          continue;
        }
        if (!response) continue;
        if (response.status !== 200) {
          const message = `Request failed with HTTP ${response.status}: ${
            quoteBody(response.body, redactor)
          }`;
          if (isTransientStatus(response.status)) throw new TransientError(message);
          context.errors.push(message);
          continue;
        }
        const record = parseCveRecord(response.body);
        const summary = cveSummary(record);
        const score = cvssBaseScore(record);
        const target = attributeTarget(attribute);
        for (const name of cveTags(score, withTtp)) {
          success = await attachTag(context, target, { name, local }) || success;
          context.roaming.setData(
            mirrorAttributeTag(context.roaming.getData(), target.id, { name, local }),
          );
        }
        const comment = String(attribute.comment ?? "");
        if (success && summary.trim() !== "" && !comment.includes("CVE Summary:")) {
          await appendSummary(context, attribute, `${comment} CVE Summary: ${summary}`.trim());
        }
      }
      return success;
    },
  };
}

/** Tag attribute with CVE information, looking CVEs up at `VULNERABILITY_LOOKUP_URL` (or CIRCL's). */
export const tagCveFromEnrichment: WorkflowModule = createTagCveFromEnrichment();

/** MISP's tags for a CVSS base score (null when the record has none). */
export function cveTags(score: number | null, withTtp: boolean): string[] {
  const tags = withTtp ? [VULNERABILITY_TTP_TAG] : [];
  if (score === null) return [...tags, "CVSS:unknown", 'misp:threat-level="unknown-risk"'];
  const level = score >= 7 ? "high-risk" : score >= 4 ? "medium-risk" : "low-risk";
  return [...tags, `CVSS:${score}`, `misp:threat-level="${level}"`];
}

/**
 * The CVE record of a lookup answer: JSON, or JSON wrapped in a JSON string, or the first line
 * that parses as a JSON object (MISP's tolerant reading); an empty object when nothing parses.
 */
export function parseCveRecord(body: string): JsonObject {
  const parsed = tryJson(body.trim());
  if (isObject(parsed)) return parsed;
  if (typeof parsed === "string") {
    const inner = tryJson(parsed);
    if (isObject(inner)) return inner;
  }
  for (const line of body.split(/\r\n|\r|\n/)) {
    const candidate = line.trim();
    if (!candidate.startsWith("{")) continue;
    const value = tryJson(candidate);
    if (isObject(value)) return value;
  }
  return {};
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The English description of a CVE 5 (or legacy CVE 4) record, else the first one. */
export function cveSummary(record: JsonObject): string {
  const cna = cnaOf(record);
  const descriptions: unknown[] = [
    ...listAt(cna, ["descriptions"]),
    ...listAt(record, ["description", "description_data"]),
  ];
  if (Array.isArray(cna.description)) descriptions.push(...cna.description);
  else if (typeof cna.description === "string" && cna.description !== "") {
    descriptions.push({ value: cna.description });
  }
  if (descriptions.length === 0) {
    descriptions.push(...listAt(record, ["x_legacyV4Record", "description", "description_data"]));
  }
  const texts = descriptions.filter(isObject);
  for (const description of texts) {
    const language = String(description.lang ?? description.language ?? "").trim().toLowerCase();
    const text = description.value ?? description.description;
    if (text === undefined || text === null) continue;
    if (language.startsWith("en")) return String(text).trim();
  }
  const first = texts[0];
  return first ? String(first.value ?? first.description ?? NO_SUMMARY).trim() : NO_SUMMARY;
}

/** The first CVSS base score of the CNA's metrics, else of the ADP entries', else null. */
export function cvssBaseScore(record: JsonObject): number | null {
  const containers = isObject(record.containers) ? record.containers : {};
  const sources = [cnaOf(record), ...(Array.isArray(containers.adp) ? containers.adp : [])];
  for (const source of sources.filter(isObject)) {
    for (const metric of listAt(source, ["metrics"]).filter(isObject)) {
      for (const key of CVSS_KEYS) {
        const entry = metric[key];
        if (!isObject(entry) || entry.baseScore === undefined || entry.baseScore === null) continue;
        const score = Number(entry.baseScore);
        return Number.isFinite(score) && String(entry.baseScore).trim() !== "" ? score : null;
      }
    }
  }
  return null;
}

function cnaOf(record: JsonObject): JsonObject {
  const containers = isObject(record.containers) ? record.containers : {};
  return isObject(containers.cna) ? containers.cna : {};
}

function listAt(source: JsonObject, path: string[]): unknown[] {
  let current: unknown = source;
  for (const key of path) current = isObject(current) ? current[key] : undefined;
  return Array.isArray(current) ? current : [];
}

/** `POST /attributes/edit/<id>` with the new comment, then the roaming copies updated. */
async function appendSummary(
  context: ModuleContext,
  attribute: JsonObject,
  text: string,
): Promise<void> {
  const comment = text.slice(0, MAX_COMMENT_LENGTH);
  const answer = await callMisp<{ Attribute?: unknown }>(context, {
    method: "POST",
    path: `/attributes/edit/${attribute.id}`,
    body: { Attribute: { comment } },
    summary: `append the CVE summary to the comment of attribute ${attribute.id}`,
    details: { attribute_id: String(attribute.id), attribute_uuid: String(attribute.uuid) },
  });
  const saved = isObject(answer?.Attribute) ? answer.Attribute : {};
  context.roaming.setData(
    updateAttributes(context.roaming.getData(), byId(attribute.id), (current) => ({
      ...current,
      comment,
      ...(saved.timestamp === undefined ? {} : { timestamp: saved.timestamp }),
    })),
  );
}
