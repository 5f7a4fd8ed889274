/**
 * `tag_country_asn_from_enrichment` (Tag attribute with country and ASN 0.1, newer MISP): reads
 * the misp_standard enrichment results `attach-enrichment` left on each attribute and tags the
 * attribute `country:"…"`, `asn_number:"…"`, `asn_org:"…"` and `country_code:"…"` through
 * `/tags/attachTagToObject`, mirroring the tags into the roaming data as MISP's `_addTag` does
 * (reference §2.3, §3.3).
 *
 * Deliberate difference: MISP extracts `Event._AttributeFlattened` from the filtered items, which
 * finds nothing once a selector is set; Flowgate tags the attributes the filters select.
 *
 * @module
 */

import { extract } from "../../engine/hash_path.ts";
import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { requireMisp } from "./lib/misp_operation.ts";
import { matchingItemsForAttributes } from "./lib/node_filters.ts";
import { attachTag, attributeTarget, mirrorAttributeTag } from "./lib/tag_calls.ts";

/** Tag attribute with country and ASN: tags from each attribute's enrichment results. */
export const tagCountryAsnFromEnrichment: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "tag_country_asn_from_enrichment",
    name: "Tag attribute with country and ASN",
    version: "0.1",
    description:
      "Tag attributes based on country and ASN information extracted from enrichment data.",
    icon: "globe",
    support_filters: true,
    params: [{
      id: "locality",
      label: "Tag Locality",
      type: "select",
      options: { local: "Local", global: "Global" },
      default: "local",
    }],
  }),
  exec: execTagCountryAsn,
};

async function execTagCountryAsn(context: ModuleContext): Promise<boolean> {
  requireMisp(context);
  const data = context.roaming.getData();
  const attributes = matchingItemsForAttributes(context.node, data) ?? [];
  const local = context.params.locality === "local";
  let next = data;
  let tagged = false;
  const wanted: Record<string, string[]> = {};
  for (const attribute of attributes) {
    const tags = countryAsnTags(attribute);
    if (tags.length === 0) continue;
    wanted[String(attribute.id)] = tags;
    const target = attributeTarget(attribute);
    for (const name of tags) {
      tagged = await attachTag(context, target, { name, local }) || tagged;
      next = mirrorAttributeTag(next, target.id, { name, local });
    }
  }
  context.observe("tags", wanted);
  if (next !== data) context.roaming.setData(next);
  return tagged;
}

/** The paths MISP reads each value from, first non-empty value wins. */
const PATHS = {
  country: relationPaths("country"),
  countryCode: relationPaths("countrycode"),
  asn: [
    ...relationPaths("asn"),
    "enrichment.{n}.Object.{n}.Attribute.{n}[object_relation=ASN].value",
  ],
  asnOrg: relationPaths("ASNOrganization"),
  description: relationPaths("description"),
};

function relationPaths(relation: string): string[] {
  return [
    `enrichment.{n}.Object.{n}.Attribute.{n}[object_relation=${relation}].value`,
    `enrichment.{n}.Attribute.{n}[object_relation=${relation}].value`,
  ];
}

/** MISP's tags for one attribute, in MISP's order, without duplicates. */
export function countryAsnTags(attribute: JsonObject): string[] {
  const country = firstNonEmpty(attribute, PATHS.country);
  const countryCode = firstNonEmpty(attribute, PATHS.countryCode);
  const asn = firstNonEmpty(attribute, PATHS.asn)?.match(/\d+/)?.[0];
  const asnOrg = firstNonEmpty(attribute, PATHS.asnOrg) ?? organisationFromDescription(attribute);
  const tags: string[] = [];
  if (country) tags.push(`country:"${country.toUpperCase()}"`);
  if (asn) tags.push(`asn_number:"${asn}"`);
  if (asnOrg) tags.push(`asn_org:"${asnOrg.replaceAll('"', "'")}"`);
  if (countryCode) tags.push(`country_code:"${countryCode}"`);
  return [...new Set(tags)];
}

/** MISP's fallback: the organisation named in a `description` value of the enrichment. */
function organisationFromDescription(attribute: JsonObject): string | undefined {
  let values = strings(attribute, PATHS.description[0]!);
  if (values.length === 0) values = strings(attribute, PATHS.description[1]!);
  for (const text of values) {
    if (text.trim() === "") continue;
    const named = /ASNOrganization\s*[:\-]?\s*"?([A-Za-z0-9\-._\s]+?)"?(\.|$)/i.exec(text);
    if (named) return named[1]!.trim();
    const loose = /\bASN(?:Organization|Org)?\b.*?([A-Z][A-Za-z0-9\-._\s]+)/i.exec(text);
    if (loose) return loose[1]!.trim();
  }
  return undefined;
}

function firstNonEmpty(attribute: JsonObject, paths: string[]): string | undefined {
  for (const path of paths) {
    const found = strings(attribute, path).find((value) => value.trim() !== "");
    if (found !== undefined) return found.trim();
  }
  return undefined;
}

function strings(attribute: JsonObject, path: string): string[] {
  let values: unknown;
  try {
    values = extract(attribute, path);
  } catch {
    return [];
  }
  return (Array.isArray(values) ? values : []).filter((value) => typeof value === "string");
}
