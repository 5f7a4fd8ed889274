/**
 * `run-workflow` (Run Workflow 0.1, newer MISP): runs other workflows on this workflow's data,
 * then reloads the event, as MISP does with its ad-hoc workflows (reference §2.3). In Flowgate the
 * picker names Flowgate workflows and the runs go through `services.runWorkflow`, whose guard
 * refuses a workflow already running further up the chain.
 *
 * Deliberate differences: with `event_ids` MISP hands `{"eventid": [uuids]}` to an ad-hoc trigger
 * that fetches the events; Flowgate fetches each event (`GET /events/view/<uuid>`) and runs the
 * workflows on it. `input_data` keeps MISP's declared default `'yes'`, which is no option and,
 * as in MISP's if/elseif chain, passes nothing (exports then match MISP's). A dry run runs the workflows as dry runs too (only recorded when
 * there is no runner, or the events would have been read from MISP). The reload needs MISP and is
 * skipped without it, and in a dry run.
 *
 * @module
 */

import type { JsonObject } from "../../engine/model.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { IntegrationMissingError } from "../../engine/module_errors.ts";
import { reloadRoamingEvent } from "./lib/event_reload.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { callMisp, requireMisp } from "./lib/misp_operation.ts";
import { filtersEnabled, isObject, matchingItems } from "./lib/node_filters.ts";
import { eventOf, stringList } from "./lib/roaming_event.ts";

/** The setting the module needs live, as its error says it. */
const RUNNER_SETTING = "the workflow runner (services.runWorkflow)";

/** Run Workflow: runs the picked workflows, then reloads the event. */
export const runWorkflowAction: WorkflowModule = {
  descriptor: mispActionDescriptor({
    id: "run-workflow",
    name: "Run Workflow",
    version: "0.1",
    description: "Run a Workflow.",
    icon: "project-diagram",
    expect_misp_core_format: true,
    support_filters: true,
    params: [
      { id: "workflows", label: "Workflows", type: "picker", options: [], multiple: true },
      {
        id: "input_data",
        label: "Select Data passed to Workflow",
        type: "select",
        options: {
          nothing: "No data passed",
          roaming_data: "Roaming Data (Data of this Workflow)",
          event_ids: "Event IDs from filters or Extracted from Roaming Data",
        },
        default: "yes",
      },
    ],
  }),
  exec: execRunWorkflow,
};

async function execRunWorkflow(context: ModuleContext): Promise<boolean> {
  const names = stringList(context.params.workflows);
  if (names.length === 0) {
    context.errors.push("No workflow selected");
    return false;
  }
  const caller = context.workflow.name;
  if (names.includes(caller)) {
    context.errors.push(`Cannot run workflow "${caller}" from itself`);
    return false;
  }
  const runner = context.services.runWorkflow ?? null;
  if (!context.dryRun && runner === null) throw new IntegrationMissingError(RUNNER_SETTING);
  const payloads = await payloadsOf(context);
  if (payloads === null) return false;
  context.observe("workflows", names);
  for (const payload of payloads) {
    for (const name of names) {
      const summary = `run workflow "${name}" on ${payload.label}`;
      if (runner === null || payload.data === null) {
        context.record({ kind: "workflow", dry: true, summary, details: { workflow: name } });
        continue;
      }
      const result = await runner(name, payload.data, {
        caller,
        signal: context.signal,
        dryRun: context.dryRun,
      });
      context.record({
        kind: "workflow",
        dry: context.dryRun,
        summary: `${summary}: ${result.outcome}`,
        details: { workflow: name, outcome: result.outcome, errors: result.errors },
      });
    }
  }
  if (!context.dryRun && context.services.misp !== null && eventOf(context.roaming.getData()).id) {
    await reloadRoamingEvent(context);
  }
  return true;
}

/** The data of one run, or null when a dry run did not read it from MISP. */
interface Payload {
  label: string;
  data: JsonObject | null;
}

/**
 * The data each run gets: nothing (`{}`), the roaming data, or each event whose uuid the filters
 * (or `Event.uuid`) give, read from MISP. Null (node fails) when there is no uuid; an empty list
 * when filters are set and match nothing.
 */
async function payloadsOf(context: ModuleContext): Promise<Payload[] | null> {
  const data = context.roaming.getData();
  switch (context.params.input_data) {
    case "roaming_data":
      return [{ label: describe(data), data }];
    case "event_ids":
      break;
    default:
      return [{ label: "no data", data: {} }];
  }
  let uuids: string[];
  if (filtersEnabled(context.node)) {
    const items = matchingItems(context.node, data);
    if (items === null) return null;
    uuids = items.filter(isObject).map((item) => String(item.uuid ?? "")).filter(Boolean);
    if (items.length === 0) return [];
  } else {
    uuids = stringList(eventOf(data).uuid);
  }
  if (uuids.length === 0) {
    context.errors.push("No event uuid to pass to the workflows");
    return null;
  }
  requireMisp(context);
  const payloads: Payload[] = [];
  for (const uuid of uuids) {
    const answer = await callMisp<JsonObject>(context, {
      method: "GET",
      path: `/events/view/${uuid}`,
      summary: `read event ${uuid} for the workflows`,
      details: { event_uuid: uuid },
    });
    payloads.push({ label: `event ${uuid}`, data: answer ?? null });
  }
  return payloads;
}

function describe(data: JsonObject): string {
  const uuid = eventOf(data).uuid;
  return uuid === undefined ? "the roaming data" : `event ${uuid}`;
}
