/**
 * `add_eventblocklist_entry` (Add Event Blocklist entry 0.1): blocks the event's UUID through
 * `POST /eventBlocklists/add` with its info, creator organisation and a comment (reference §2.2).
 *
 * @module
 */

import { get } from "../../engine/hash_path.ts";
import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { callMisp, requireMisp } from "./lib/misp_operation.ts";
import { isObject } from "./lib/node_filters.ts";
import { eventOf } from "./lib/roaming_event.ts";

/** Add Event Blocklist entry: blocks the event's UUID so MISP never creates or pulls it again. */
export const addEventblocklistEntry: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "add_eventblocklist_entry",
    name: "Add Event Blocklist entry",
    version: "0.1",
    description: "Create an Event blocklist entry based on the Event UUID",
    icon: "ban",
    expect_misp_core_format: true,
    params: [
      {
        id: "uuid_hash_path",
        label: "Event UUID Hash path",
        type: "hashpath",
        default: "Event.uuid",
        placeholder: "Event.uuid",
      },
      {
        id: "eventinfo_hash_path",
        label: "Event Info Hash path",
        type: "hashpath",
        default: "Event.info",
        placeholder: "Event.info",
      },
      {
        id: "block_comment",
        label: "Comment",
        type: "input",
        default: "Blocked from workflow",
        placeholder: "Blocked from workflow",
      },
    ],
  }),
  exec: execAddEventblocklistEntry,
};

async function execAddEventblocklistEntry(context: ModuleContext): Promise<boolean> {
  requireMisp(context);
  const data = context.roaming.getData();
  const uuid = get(data, String(context.params.uuid_hash_path));
  if (uuid === null || uuid === undefined || uuid === "") {
    context.errors.push(`No event UUID found at "${context.params.uuid_hash_path}"`);
    return false;
  }
  const info = get(data, String(context.params.eventinfo_hash_path));
  const orgc = await creatorName(context, eventOf(data));
  await callMisp(context, {
    method: "POST",
    path: "/eventBlocklists/add",
    body: {
      uuids: [String(uuid)],
      comment: String(context.params.block_comment ?? ""),
      event_info: info ?? "",
      event_orgc: orgc,
    },
    summary: `block event ${uuid}`,
    details: { event_uuid: String(uuid) },
  });
  return true;
}

/** The creator organisation's name: from `Event.Orgc`, else `GET /organisations/view/<orgc_id>`. */
async function creatorName(context: ModuleContext, event: JsonObject): Promise<string> {
  if (isObject(event.Orgc) && typeof event.Orgc.name === "string") return event.Orgc.name;
  if (event.orgc_id === undefined) return "";
  const answer = await callMisp<JsonObject>(context, {
    method: "GET",
    path: `/organisations/view/${event.orgc_id}`,
    summary: `read organisation ${event.orgc_id}`,
  });
  const org = isObject(answer) && isObject(answer.Organisation) ? answer.Organisation : {};
  return typeof org.name === "string" ? org.name : "";
}
