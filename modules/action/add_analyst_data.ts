/**
 * `add_analyst_data` (Add Analyst Data 0.1, newer MISP): adds a Note, an Opinion or a
 * Relationship to each selected element through
 * `POST /analyst_data/add/<type>/<object uuid>/<object type>` (reference §2.3, §3.5). MISP does
 * not change the roaming data here, nor does Flowgate.
 *
 * Deliberate difference: MISP sends the sharing group only when the distribution is *not*
 * "Sharing group" (an inverted test); Flowgate sends it when it is, and 0 otherwise.
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import { get } from "../../engine/hash_path.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { ATTRIBUTE_DISTRIBUTION_OPTIONS, sharingGroupId } from "./lib/distribution_options.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { MispError } from "./lib/misp_client.ts";
import { callMisp, requireMisp } from "./lib/misp_operation.ts";
import { filtersEnabled, isObject, matchingItems } from "./lib/node_filters.ts";

/** MISP's analyst data types. */
export const ANALYST_DATA_TYPES = ["Note", "Opinion", "Relationship"] as const;

/** The kinds of element analyst data can be attached to (MISP's `validTargets`). */
export const ANALYST_DATA_TARGETS = [
  "Attribute",
  "Event",
  "EventReport",
  "GalaxyCluster",
  "Object",
] as const;

/** Where each target's elements are in core-format data when no filter is set. */
const TARGET_PATHS: Record<string, string> = {
  Attribute: "Event._AttributeFlattened",
  EventReport: "Event.EventReport",
  Object: "Event.Object",
  GalaxyCluster: "Event.GalaxyCluster",
};

/** CakePHP's `Validation::uuid`. */
const UUID = /^[a-f0-9]{8}-[a-f0-9]{4}-[0-5][a-f0-9]{3}-[089ab][a-f0-9]{3}-[a-f0-9]{12}$/i;

/** The fields each type sends, by param id. */
const TYPE_FIELDS: Record<string, string[]> = {
  Note: ["language", "note"],
  Opinion: ["opinion", "comment"],
  Relationship: ["relationship_type", "related_object_type", "related_object_uuid"],
};

/** Add Analyst Data: a Note, Opinion or Relationship on each selected element. */
export const addAnalystData: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "add_analyst_data",
    name: "Add Analyst Data",
    version: "0.1",
    description: "Add analyst data on the selected element(s).",
    icon: "sticky-note",
    expect_misp_core_format: true,
    support_filters: true,
    params: [
      {
        id: "target",
        label: "Target",
        type: "select",
        options: [...ANALYST_DATA_TARGETS],
        default: "Event",
        strict_options: true,
      },
      {
        id: "analyst_data_type",
        label: "Analyst Data Type",
        type: "select",
        options: { Note: "Note", Opinion: "Opinion", Relationship: "Relationship" },
        default: "Note",
        strict_options: true,
      },
      {
        id: "distribution",
        label: "Distribution",
        type: "select",
        default: "0",
        options: ATTRIBUTE_DISTRIBUTION_OPTIONS,
        placeholder: "Pick a distribution",
      },
      {
        id: "sharing_group_id",
        label: "Sharing Groups",
        type: "picker",
        multiple: false,
        options: [],
        default: [],
        placeholder: "Pick a sharing group",
        display_on: { distribution: "4" },
      },
      { id: "author", label: "Author", type: "input" },
      {
        id: "language",
        label: "Language",
        type: "input",
        display_on: { analyst_data_type: "Note" },
      },
      {
        id: "note",
        label: "Note",
        type: "textarea",
        jinja_supported: true,
        display_on: { analyst_data_type: "Note" },
      },
      {
        id: "opinion",
        label: "Opinion",
        type: "input",
        display_on: { analyst_data_type: "Opinion" },
      },
      {
        id: "comment",
        label: "Comment",
        type: "textarea",
        jinja_supported: true,
        display_on: { analyst_data_type: "Opinion" },
      },
      {
        id: "relationship_type",
        label: "Relationship Type",
        type: "input",
        jinja_supported: true,
        display_on: { analyst_data_type: "Relationship" },
      },
      {
        id: "related_object_type",
        label: "Related Object Type",
        type: "input",
        jinja_supported: true,
        placeholder: "Use one of the valid targets from the target list",
        default: "Event",
        display_on: { analyst_data_type: "Relationship" },
      },
      {
        id: "related_object_uuid",
        label: "Related Object UUID",
        type: "input",
        jinja_supported: true,
        display_on: { analyst_data_type: "Relationship" },
      },
    ],
  }),
  exec: execAddAnalystData,
};

async function execAddAnalystData(context: ModuleContext): Promise<boolean> {
  requireMisp(context);
  const { params } = context;
  const type = String(params.analyst_data_type);
  const fields = TYPE_FIELDS[type];
  if (fields === undefined) {
    context.errors.push(`Unknown analyst data type "${type}"`);
    return false;
  }
  const target = String(params.target);
  const data = context.roaming.getData();
  const items = selectedItems(context, data, target);
  if (items === null) return false;
  const uuids = items.filter(isObject).map((item) => String(item.uuid ?? ""))
    .filter((uuid) => UUID.test(uuid));
  context.observe("targets", uuids);
  const distribution = String(params.distribution ?? "0");
  const body: JsonObject = {
    distribution,
    sharing_group_id: distribution === "4" ? sharingGroupId(params.sharing_group_id) : "0",
  };
  if (String(params.author ?? "") !== "") body.authors = String(params.author);
  for (const field of fields) body[field] = String(params[field] ?? "");
  let added = false;
  for (const uuid of uuids) {
    try {
      await callMisp(context, {
        method: "POST",
        path: `/analyst_data/add/${type}/${uuid}/${target}`,
        body: { [type]: body },
        summary: `add a ${type} to ${target} ${uuid}`,
        details: { analyst_data_type: type, object_type: target, object_uuid: uuid },
      });
      added = true;
    } catch (error) {
      if (!(error instanceof MispError)) throw error;
      context.errors.push(`Cannot add a ${type} to ${target} "${uuid}": ${error.message}`);
    }
  }
  return added;
}

/**
 * MISP's selection: with filters, the matching items; without, the data's top-level values for
 * an Event target, or the list the target names. Null (node fails) when the selector cannot be
 * extracted.
 */
function selectedItems(context: ModuleContext, data: JsonObject, target: string): unknown[] | null {
  if (filtersEnabled(context.node)) {
    const items = matchingItems(context.node, data);
    if (items === null) {
      context.errors.push(`Cannot extract filter selector "${context.node.filters?.selector}"`);
    }
    return items;
  }
  const path = TARGET_PATHS[target];
  if (path === undefined) return Object.values(data);
  const list = get(data, path);
  return Array.isArray(list) ? list : [];
}
