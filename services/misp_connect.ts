/**
 * `misp:connect`: wires a MISP to Flowgate over MISP's REST API. It points MISP's Action service
 * at Flowgate, checks that MISP then lists Flowgate's modules (and enables them), puts the
 * `flowgate_<trigger>` node right after the trigger node of each trigger that has an enabled
 * Flowgate workflow, and enables those triggers. Every step compares first, so a second run
 * changes nothing; a dry run only plans; every change made is written to the audit log.
 *
 * @module
 */

import {
  type GraphModule,
  type MispGraph,
  placeModuleAfterTrigger,
  readMispGraph,
  removeModuleNodes,
} from "../engine/misp_graph_edit.ts";
import { appendAudit } from "../store/audit.ts";
import { listEnabledWorkflows } from "../store/workflows.ts";
import { TRIGGERS } from "../triggers/catalogue.ts";
import { MODULE_NAME_PREFIX, moduleNameOf } from "../triggers/misp_module_name.ts";
import type {
  MispAdminApi,
  MispSettingValue,
  MispTrigger,
  MispWorkflowModule,
} from "./misp_admin_api.ts";

const WORKFLOW_ENABLE = "Plugin.Workflow_enable";

/** Version MISP gives a misp-modules module (`WorkflowBaseModule::$version`), before it lists it. */
const MISP_MODULE_DEFAULT_VERSION = "0.1";

/** Where MISP should call Flowgate: `Plugin.Action_services_url` and `_port`. */
export interface ActionServiceAddress {
  /** Scheme and host, no port and no path: MISP appends `:<port>/modules` itself. */
  url: string;
  port: number;
}

/** One change `misp:connect` makes (or, on a dry run, would make). */
export type MispChange =
  | { kind: "setting"; name: string; from: MispSettingValue; to: MispSettingValue }
  | { kind: "module-enable"; module: string }
  | { kind: "workflow-create"; trigger: string }
  | {
    kind: "node";
    trigger: string;
    module: string;
    change: "added" | "updated" | "removed";
    detail?: string;
  }
  | { kind: "trigger-enable"; trigger: string };

/** What a run of `misp:connect` found and changed. */
export interface MispConnectReport {
  version: string;
  changes: MispChange[];
  /** What was left alone and why (a trigger this MISP does not have…). */
  notes: string[];
}

/** Options of `connectMisp` and `disconnectMisp`. */
export interface MispConnectOptions {
  /** Plan only: read MISP, change nothing, audit nothing. */
  dryRun: boolean;
  /** Flowgate's KV: the audit log of every change. */
  kv: Deno.Kv;
  /** Who made the changes, for the audit log. */
  actor: string;
}

/**
 * The Action service address MISP needs for Flowgate at `flowgateUrl` (`http://10.1.2.3:8000`):
 * MISP calls `<url>:<port>/modules`, so the URL keeps scheme and host and the port goes apart.
 *
 * @throws {TypeError} for a URL that is not http(s) or has a path, query or credentials
 */
export function actionServiceAddressOf(flowgateUrl: string): ActionServiceAddress {
  let parsed: URL;
  try {
    parsed = new URL(flowgateUrl);
  } catch {
    throw new TypeError(`Invalid Flowgate URL "${flowgateUrl}": expected http(s)://host[:port]`);
  }
  if (!["http:", "https:"].includes(parsed.protocol)) {
    throw new TypeError(`Invalid Flowgate URL "${flowgateUrl}": MISP calls http or https only`);
  }
  if (parsed.pathname !== "/" || parsed.search || parsed.hash || parsed.username) {
    throw new TypeError(
      `Invalid Flowgate URL "${flowgateUrl}": give scheme, host and port only (MISP adds /modules)`,
    );
  }
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === "https:" ? 443 : 80;
  return { url: `${parsed.protocol}//${parsed.hostname}`, port };
}

/**
 * The server settings that let MISP run workflows and call Flowgate at `address` as its Action
 * service (`Plugin.Workflow_enable`, `Plugin.Action_services_enable/url/port`).
 */
export function actionServiceSettings(
  address: ActionServiceAddress,
): { name: string; value: MispSettingValue }[] {
  return [
    { name: WORKFLOW_ENABLE, value: true },
    { name: "Plugin.Action_services_enable", value: true },
    { name: "Plugin.Action_services_url", value: address.url },
    { name: "Plugin.Action_services_port", value: address.port },
  ];
}

/** True when MISP's stored `current` already means `wanted` (`"1"` is `true`, `"8000"` is `8000`). */
export function settingMatches(current: MispSettingValue, wanted: MispSettingValue): boolean {
  if (typeof wanted === "boolean") {
    return wanted === [true, 1, "1", "true"].includes(current as never);
  }
  if (typeof wanted === "string") {
    return typeof current === "string" && current.replace(/\/+$/, "") === wanted;
  }
  return current !== null && String(current) === String(wanted);
}

/** The ids of the triggers that have at least one enabled Flowgate workflow, in catalogue order. */
export async function triggersWithEnabledWorkflows(kv: Deno.Kv): Promise<string[]> {
  const triggers: string[] = [];
  for (const trigger of TRIGGERS) {
    const id = trigger.descriptor.id;
    if ((await listEnabledWorkflows(kv, id)).length > 0) triggers.push(id);
  }
  return triggers;
}

/**
 * Brings MISP to the wanted state for `triggers` (see the module doc), or on a dry run says what
 * it would change.
 *
 * @throws {Error} when MISP cannot reach Flowgate after the settings are in place (nothing is
 *   edited in the workflows then), or when MISP refuses a call (the MISP error says which)
 */
export async function connectMisp(
  misp: MispAdminApi,
  target: { address: ActionServiceAddress; triggers: string[] },
  options: MispConnectOptions,
): Promise<MispConnectReport> {
  const report: MispConnectReport = { version: await misp.getVersion(), changes: [], notes: [] };
  const apply = changeApplier(options, report);

  let settingsChanged = false;
  for (const { name, value } of actionServiceSettings(target.address)) {
    const current = await misp.readSetting(name);
    if (settingMatches(current, value)) continue;
    settingsChanged = true;
    await apply(
      { kind: "setting", name, from: current, to: value },
      () => misp.writeSetting(name, value),
    );
  }

  // MISP answers no workflow route while workflows are off: a dry run then plans blind.
  const blind = options.dryRun &&
    report.changes.some((change) => change.kind === "setting" && change.name === WORKFLOW_ENABLE);
  if (blind && target.triggers.length > 0) {
    report.notes.push(
      `${WORKFLOW_ENABLE} is off, so MISP's modules and workflows cannot be read yet: the plan assumes each trigger has an empty workflow`,
    );
  }
  const modules = blind ? [] : await misp.listActionModules();
  const moduleOf = (trigger: string): GraphModule | undefined => {
    const listed = findModule(modules, trigger);
    if (listed) return { id: listed.id, name: listed.name, version: listed.version };
    // A dry run with settings still to change cannot see the modules yet: plan with their names.
    if (options.dryRun && settingsChanged) {
      const name = moduleNameOf(trigger);
      return { id: name, name, version: MISP_MODULE_DEFAULT_VERSION };
    }
    return undefined;
  };
  const missing = target.triggers.filter((trigger) => moduleOf(trigger) === undefined);
  if (missing.length > 0) {
    throw new Error(
      `MISP does not list Flowgate's module "${moduleNameOf(missing[0]!)}"${
        missing.length > 1 ? ` (and ${missing.length - 1} more)` : ""
      }: MISP cannot reach Flowgate at ${target.address.url}:${target.address.port}/modules. ` +
        `Check that Flowgate runs there and that FLOWGATE_MISP_ALLOW allows MISP's address; ` +
        `no workflow was changed`,
    );
  }

  const mispTriggers = new Map(
    (blind ? plannedTriggers(target.triggers) : await misp.listTriggers()).map((
      trigger,
    ) => [trigger.id, trigger]),
  );
  for (const triggerId of target.triggers) {
    let trigger = mispTriggers.get(triggerId);
    if (!trigger) {
      report.notes.push(
        `MISP ${report.version} has no trigger "${triggerId}": its Flowgate workflows are not wired`,
      );
      continue;
    }
    const module = moduleOf(triggerId)!;
    const listed = findModule(modules, triggerId);
    if (listed?.disabled || (!listed && options.dryRun)) {
      await apply(
        { kind: "module-enable", module: module.id },
        () => misp.toggleModule(module.id, true),
      );
    }
    if (!trigger.workflow) {
      await apply({ kind: "workflow-create", trigger: triggerId }, async () => {
        const failure = await misp.createTriggerWorkflow(triggerId);
        trigger = (await misp.listTriggers()).find((listed) => listed.id === triggerId);
        if (!trigger?.workflow) {
          throw new Error(
            `MISP did not create the workflow of trigger "${triggerId}"${
              failure ? ` (${failure})` : ""
            }: open it once in MISP's workflow editor and run misp:connect again`,
          );
        }
      });
    }
    const graph = trigger.workflow
      ? readMispGraph(trigger.workflow.data)
      : newTriggerGraph(trigger);
    const placed = placeModuleAfterTrigger(graph, triggerId, module);
    if (placed.change !== "unchanged") {
      const workflowId = trigger.workflow?.id;
      await apply(
        {
          kind: "node",
          trigger: triggerId,
          module: module.id,
          change: placed.change,
          ...(placed.detail ? { detail: placed.detail } : {}),
        },
        () => misp.editWorkflow(workflowId!, placed.graph),
      );
    }
    if (trigger.disabled) {
      await apply(
        { kind: "trigger-enable", trigger: triggerId },
        () => misp.toggleTrigger(triggerId, true),
      );
    }
  }
  return report;
}

/**
 * `misp:connect --undo`: takes every `flowgate_*` node out of MISP's trigger workflows, joining
 * what fed it to what it fed. The Action service settings, the triggers' state and the user's
 * nodes stay as they are.
 */
export async function disconnectMisp(
  misp: MispAdminApi,
  options: MispConnectOptions,
): Promise<MispConnectReport> {
  const report: MispConnectReport = { version: await misp.getVersion(), changes: [], notes: [] };
  const apply = changeApplier(options, report);
  for (const trigger of await misp.listTriggers()) {
    if (!trigger.workflow) continue;
    let graph = readMispGraph(trigger.workflow.data);
    const ids = new Set(
      Object.values(graph).map((node) => node.data?.id).filter((id): id is string =>
        typeof id === "string" && id.startsWith(MODULE_NAME_PREFIX)
      ),
    );
    if (ids.size === 0) continue;
    for (const id of ids) graph = removeModuleNodes(graph, id).graph;
    const workflowId = trigger.workflow.id;
    await apply(
      { kind: "node", trigger: trigger.id, module: [...ids].sort().join(", "), change: "removed" },
      () => misp.editWorkflow(workflowId, graph),
    );
  }
  return report;
}

/** Runs a change unless dry, records it in the report, and audits it once made. */
function changeApplier(
  options: MispConnectOptions,
  report: MispConnectReport,
): (change: MispChange, run: () => Promise<void>) => Promise<void> {
  return async (change, run) => {
    report.changes.push(change);
    if (options.dryRun) return;
    await run();
    await appendAudit(options.kv, {
      actor: options.actor,
      action: `misp.${change.kind}${change.kind === "node" ? `.${change.change}` : ""}`,
      target: auditTarget(change),
      details: auditDetails(change),
    });
  };
}

function auditTarget(change: MispChange): string {
  switch (change.kind) {
    case "setting":
      return change.name;
    case "module-enable":
      return change.module;
    default:
      return change.trigger;
  }
}

function auditDetails(change: MispChange): { [key: string]: string | number | boolean | null } {
  const { kind: _kind, ...rest } = change;
  return rest as { [key: string]: string | number | boolean | null };
}

function findModule(
  modules: MispWorkflowModule[],
  trigger: string,
): MispWorkflowModule | undefined {
  const name = moduleNameOf(trigger);
  return modules.find((module) => module.id === name || module.name === name);
}

/** The triggers of a blind dry run: as MISP has them before anyone opened their workflow. */
function plannedTriggers(ids: string[]): MispTrigger[] {
  return ids.map((id) => ({ id, name: id, blocking: false, disabled: true }));
}

/** The graph MISP's editor creates for a trigger without a workflow (`genGraphDataForTrigger`). */
function newTriggerGraph(trigger: MispTrigger): MispGraph {
  return readMispGraph({
    1: {
      id: 1,
      class: "block-type-trigger",
      data: { id: trigger.id, name: trigger.name, module_type: "trigger" },
      inputs: [],
      outputs: { output_1: { connections: [] } },
      pos_x: 0,
      pos_y: 0,
      typenode: false,
    },
  });
}
