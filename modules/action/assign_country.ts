/**
 * `assign_country` (Assign country 0.2): reads country names from the enrichment results that
 * `attach-enrichment` left on the attributes, finds the matching clusters of MISP's country galaxy
 * (`GET /galaxies/index`, `GET /galaxies/view/<id>`) and attaches their tags to the event or to
 * each attribute (reference §2.2, §3.3). As MISP's module it never calls `setData`: later nodes see
 * the tags as they were.
 *
 * @module
 */

import { extract } from "../../engine/hash_path.ts";
import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { callMisp, requireMisp } from "./lib/misp_operation.ts";
import { isObject, matchingItemsForAttributes } from "./lib/node_filters.ts";
import { attachTag, attributeTarget, eventTarget, type TagTarget } from "./lib/tag_calls.ts";

/** Assign country: tags the event or attributes with the countries their enrichments name. */
export const assignCountry: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "assign_country",
    name: "Assign country",
    version: "0.2",
    description:
      "Add or remove country galaxy clusters on Attributes or Events based on the enrichment data",
    icon: "globe",
    expect_misp_core_format: true,
    support_filters: true,
    params: [
      {
        id: "scope",
        label: "Scope",
        type: "select",
        options: { event: "Event", attribute: "Attribute" },
        default: "event",
      },
      {
        id: "hash_path",
        label: "Country Hash path",
        type: "hashpath",
        default: "enrichment.{n}.{n}.values.0",
        placeholder: "enrichment.{n}.{n}.values.0",
      },
      {
        id: "locality",
        label: "Tag Locality",
        type: "select",
        options: { local: "Local", global: "Global" },
        default: "local",
      },
      {
        id: "galaxy_name",
        label: "Galaxy Name",
        type: "select",
        options: { country: "Country" },
      },
      { id: "relationship_type", label: "Relationship Type", type: "input" },
    ],
  }),
  exec: execAssignCountry,
};

async function execAssignCountry(context: ModuleContext): Promise<boolean> {
  requireMisp(context);
  const data = context.roaming.getData();
  const attributes = matchingItemsForAttributes(context.node, data) ?? [];
  const path = String(context.params.hash_path);
  const wanted: { target: TagTarget; countries: string[] }[] = context.params.scope === "attribute"
    ? attributes.map((attribute) => ({
      target: attributeTarget(attribute),
      countries: countryNames(attribute, path),
    }))
    : [{ target: eventTarget(data), countries: countryNames(attributes, `{n}.${path}`) }];
  const names = [...new Set(wanted.flatMap(({ countries }) => countries))];
  context.observe("countries", names);
  if (names.length === 0) return true;
  const clusters = await countryClusters(context, String(context.params.galaxy_name || "country"));
  if (clusters === undefined) return true;
  const tag = {
    local: context.params.locality !== "global",
    relationshipType: String(context.params.relationship_type ?? ""),
  };
  for (const { target, countries } of wanted) {
    const tagNames = new Set(
      countries.map((country) => clusters.get(country.toLowerCase())).filter((name) =>
        name !== undefined
      ),
    );
    for (const name of tagNames) {
      await attachTag(context, target, { ...tag, name });
    }
  }
  return true;
}

function countryNames(source: unknown, path: string): string[] {
  let values: unknown;
  try {
    values = extract(source, path);
  } catch {
    return [];
  }
  const list = Array.isArray(values) ? values : [values];
  return list.filter((value) => typeof value === "string" && value !== "") as string[];
}

/**
 * Cluster tag names of the galaxy of type `galaxyType`, by lower-cased cluster value; undefined
 * in a dry run (the reads are recorded, not made).
 */
async function countryClusters(
  context: ModuleContext,
  galaxyType: string,
): Promise<Map<string, string> | undefined> {
  const index = await callMisp<unknown>(context, {
    method: "GET",
    path: "/galaxies/index",
    summary: `find the "${galaxyType}" galaxy`,
  });
  if (index === undefined) return undefined;
  const galaxy = (Array.isArray(index) ? index : [])
    .map((entry) => isObject(entry) && isObject(entry.Galaxy) ? entry.Galaxy : undefined)
    .find((candidate) => candidate?.type === galaxyType);
  const clusters = new Map<string, string>();
  if (galaxy === undefined) {
    context.errors.push(`MISP has no galaxy of type "${galaxyType}"`);
    return clusters;
  }
  const view = await callMisp<JsonObject>(context, {
    method: "GET",
    path: `/galaxies/view/${galaxy.id}`,
    summary: `read the clusters of galaxy ${galaxy.id}`,
  });
  const list = isObject(view) && Array.isArray(view.GalaxyCluster) ? view.GalaxyCluster : [];
  for (const cluster of list.filter(isObject)) {
    clusters.set(String(cluster.value).toLowerCase(), String(cluster.tag_name));
  }
  return clusters;
}
