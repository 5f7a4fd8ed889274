/**
 * `proposal-action` (Proposal Action 0.2): accepts or discards proposals (shadow attributes)
 * through `POST /shadowAttributes/accept|discard/<id>`, then reloads the roaming data
 * (reference §2.2). `new` proposals sit in `Event.ShadowAttribute`, `edit` proposals on existing
 * attributes; MISP's default `all` is neither, so it does nothing (§9.5).
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { reloadRoamingEvent } from "./lib/event_reload.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { callMisp, requireMisp } from "./lib/misp_operation.ts";
import {
  filtersEnabled,
  flattenedAttributes,
  isObject,
  matchingItems,
} from "./lib/node_filters.ts";
import { eventOf } from "./lib/roaming_event.ts";

/** Proposal Action: accepts or discards the event's proposals, then reloads the event. */
export const proposalAction: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "proposal-action",
    name: "Proposal Action",
    version: "0.2",
    description: "Accept or discard proposals",
    icon: "check-square",
    expect_misp_core_format: true,
    support_filters: true,
    params: [
      {
        id: "action",
        label: "Action",
        type: "select",
        options: { accept: "Accept proposals", remove: "Discard proposals" },
        default: "accept",
      },
      {
        id: "proposal_type",
        label: "Proposal type",
        type: "select",
        options: {
          new: "New attribute proposals",
          edit: "Edit existing attribute proposals",
          any: "Any proposals",
        },
        default: "all",
      },
    ],
  }),
  exec: execProposalAction,
};

type ProposalKind = "new" | "edit";

async function execProposalAction(context: ModuleContext): Promise<boolean> {
  requireMisp(context);
  const type = String(context.params.proposal_type);
  const kinds: ProposalKind[] = type === "any"
    ? ["new", "edit"]
    : type === "new" || type === "edit"
    ? [type]
    : [];
  const data = context.roaming.getData();
  let proposals: { proposal: JsonObject; kind: ProposalKind }[];
  if (filtersEnabled(context.node)) {
    const items = matchingItems(context.node, data) ?? [];
    if (items.length === 0) return true;
    proposals = items.filter(isObject).flatMap((item) => proposalsIn(item, data));
  } else {
    proposals = proposalsIn(eventOf(data), data);
  }
  const chosen = proposals.filter(({ kind }) => kinds.includes(kind));
  context.observe("proposals", chosen.map(({ proposal, kind }) => `${kind} ${proposal.id}`));
  if (chosen.length === 0) return true;
  const accept = context.params.action !== "remove";
  for (const { proposal, kind } of chosen) {
    await callMisp(context, {
      method: "POST",
      path: `/shadowAttributes/${accept ? "accept" : "discard"}/${proposal.id}`,
      summary: `${accept ? "accept" : "discard"} ${kind} proposal ${proposal.id}`,
      details: { proposal_id: String(proposal.id), kind, value: String(proposal.value ?? "") },
    });
  }
  await reloadRoamingEvent(context);
  return true;
}

/**
 * The proposals an item holds: the event's own (`new`) and its attributes' (`edit`), an
 * attribute's (`edit`), or the item itself when the selector picked proposals directly.
 */
function proposalsIn(
  item: JsonObject,
  data: JsonObject,
): { proposal: JsonObject; kind: ProposalKind }[] {
  const listOf = (holder: JsonObject) =>
    Array.isArray(holder.ShadowAttribute) ? holder.ShadowAttribute.filter(isObject) : [];
  if ("old_id" in item && !("ShadowAttribute" in item)) {
    return [{ proposal: item, kind: isNewProposal(item) ? "new" : "edit" }];
  }
  if ("info" in item && item.uuid === eventOf(data).uuid) {
    return [
      ...listOf(item).map((proposal) => ({ proposal, kind: "new" as const })),
      ...flattenedAttributes(data).flatMap(listOf).map((proposal) => ({
        proposal,
        kind: "edit" as const,
      })),
    ];
  }
  return listOf(item).map((proposal) => ({ proposal, kind: "edit" as const }));
}

function isNewProposal(proposal: JsonObject): boolean {
  return proposal.old_id === undefined || proposal.old_id === null ||
    String(proposal.old_id) === "0";
}
