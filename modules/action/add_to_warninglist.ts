/**
 * `add_to_warninglist` (Add to warninglist 0.1): appends the values of the matching attributes,
 * without duplicates, to a custom warninglist: `GET /warninglists/view/<id>` to read the entries,
 * then `POST /warninglists/edit/<id>` with the full list (reference §2.2). A dry run cannot read
 * the list, so it records the read and the edit with the values it would append.
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { callMisp, requireMisp } from "./lib/misp_operation.ts";
import { isObject, matchingItemsForAttributes } from "./lib/node_filters.ts";

/** Add to warninglist: appends the matching attributes' values to a custom warninglist. */
export const addToWarninglist: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "add_to_warninglist",
    name: "Add to warninglist",
    version: "0.1",
    description: "Append attributes to an enabled custom warninglist.",
    icon: "exclamation-triangle",
    expect_misp_core_format: true,
    support_filters: true,
    params: [{
      id: "warninglist",
      label: "Warninglist",
      type: "picker",
      options: {},
      placeholder: "Pick a warninglist",
      required: true,
    }],
  }),
  exec: execAddToWarninglist,
};

async function execAddToWarninglist(context: ModuleContext): Promise<boolean> {
  requireMisp(context);
  const id = String(
    Array.isArray(context.params.warninglist)
      ? context.params.warninglist[0] ?? ""
      : context.params.warninglist ?? "",
  );
  if (id === "") {
    context.errors.push("No warninglist selected");
    return false;
  }
  const data = context.roaming.getData();
  const values = [
    ...new Set(
      (matchingItemsForAttributes(context.node, data) ?? []).map((attribute) =>
        String(attribute.value)
      ),
    ),
  ];
  if (values.length === 0) return true;
  const answer = await callMisp<JsonObject>(context, {
    method: "GET",
    path: `/warninglists/view/${id}`,
    summary: `read warninglist ${id}`,
    details: { warninglist_id: id },
  });
  if (answer === undefined) {
    context.record({
      kind: "misp",
      dry: true,
      method: "POST",
      url: `/warninglists/edit/${id}`,
      summary:
        `POST /warninglists/edit/${id}: append ${values.length} value(s) to the entries read first`,
      details: { endpoint: "/warninglists/edit", warninglist_id: id, append: values },
    });
    return true;
  }
  const list = isObject(answer.Warninglist) ? answer.Warninglist : {};
  const entries = (Array.isArray(list.WarninglistEntry) ? list.WarninglistEntry : []).filter(
    isObject,
  );
  const known = new Set(entries.map((entry) => String(entry.value)));
  const added = values.filter((value) => !known.has(value));
  context.observe("appended_values", added);
  if (added.length === 0) return true;
  const lines = [
    ...entries.map((entry) =>
      entry.comment ? `${entry.value} # ${entry.comment}` : String(entry.value)
    ),
    ...added,
  ];
  await callMisp(context, {
    method: "POST",
    path: `/warninglists/edit/${id}`,
    body: {
      Warninglist: {
        name: list.name,
        type: list.type,
        category: list.category,
        description: list.description,
        matching_attributes: matchingAttributes(list),
        entries: lines.join("\n"),
      },
    },
    summary: `append ${added.length} value(s) to warninglist ${id}`,
    details: { warninglist_id: id, append: added },
  });
  return true;
}

function matchingAttributes(list: JsonObject): unknown {
  if (list.matching_attributes !== undefined) return list.matching_attributes;
  const types = Array.isArray(list.WarninglistType) ? list.WarninglistType.filter(isObject) : [];
  return types.map((type) => type.type);
}
