/**
 * `attach-decay-score` (Attach decay score 0.1): replaces each matching attribute with MISP's copy
 * carrying `decay_score` for the chosen models (`POST /attributes/restSearch` with
 * `includeDecayScore`), in the roaming data only (reference §2.2). As in MISP the attribute is
 * replaced wholesale, so workflow-only keys such as `_allTags` are lost (§9.8).
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { callMisp, requireMisp } from "./lib/misp_operation.ts";
import { isObject, matchingItemsForAttributes, overrideAttribute } from "./lib/node_filters.ts";
import { stringList } from "./lib/roaming_event.ts";

/** Attach decay score: gives later nodes each matching attribute's decay score. */
export const attachDecayScore: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "attach-decay-score",
    name: "Attach decay score",
    version: "0.1",
    description: "Attach decay score to Attributes.",
    icon: "chart-line",
    expect_misp_core_format: true,
    support_filters: true,
    params: [{
      id: "decayingmodels",
      label: "Decaying Models",
      type: "picker",
      multiple: true,
      options: {},
      placeholder: "Pick a decaying model",
    }],
  }),
  exec: execAttachDecayScore,
};

async function execAttachDecayScore(context: ModuleContext): Promise<boolean> {
  requireMisp(context);
  const models = stringList(context.params.decayingmodels);
  const data = context.roaming.getData();
  const attributes = matchingItemsForAttributes(context.node, data) ?? [];
  let next = data;
  for (const attribute of attributes) {
    const answer = await callMisp<JsonObject>(context, {
      method: "POST",
      path: "/attributes/restSearch",
      body: {
        returnFormat: "json",
        uuid: attribute.uuid,
        includeDecayScore: 1,
        decayingModel: models,
      },
      summary: `read decay score of attribute ${attribute.id}`,
      details: { attribute_uuid: String(attribute.uuid), models },
    });
    const response = isObject(answer) && isObject(answer.response) ? answer.response : {};
    const found = Array.isArray(response.Attribute) ? response.Attribute.find(isObject) : undefined;
    if (found) next = overrideAttribute(next, attribute, found);
  }
  if (next !== data) context.roaming.setData(next);
  return true;
}
