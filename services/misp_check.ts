/**
 * `misp:check`: reads MISP over its REST API and says whether it is wired to Flowgate: workflows
 * on, the Action service on and pointing at Flowgate, Flowgate's modules listed and enabled, and
 * for each trigger with an enabled Flowgate workflow the trigger on and the `flowgate_<trigger>`
 * node right after it. Every problem comes with what to do. Reads only.
 *
 * @module
 */

import { describeModuleWiring, readMispGraph } from "../engine/misp_graph_edit.ts";
import { moduleNameOf } from "../triggers/misp_module_name.ts";
import type { MispAdminApi, MispSettingValue } from "./misp_admin_api.ts";
import {
  type ActionServiceAddress,
  actionServiceSettings,
  settingMatches,
} from "./misp_connect.ts";

/** One thing `misp:check` looked at. */
export interface MispCheckFinding {
  ok: boolean;
  /** What was found, e.g. `Trigger "event-publish" is disabled in MISP`. */
  what: string;
  /** What to do about it (problems only). */
  fix?: string;
}

/** What `misp:check` found. */
export interface MispCheckReport {
  version: string;
  findings: MispCheckFinding[];
}

const WORKFLOW_ENABLE = "Plugin.Workflow_enable";

const CONNECT = "run `deno task misp:connect --flowgate-url <Flowgate's URL>`";

/**
 * Checks MISP's wiring for `triggers`. Without `address` the Action service URL and port are
 * shown but not compared (MISP listing Flowgate's modules proves them right).
 */
export async function checkMispWiring(
  misp: MispAdminApi,
  target: { address?: ActionServiceAddress; triggers: string[] },
): Promise<MispCheckReport> {
  const findings: MispCheckFinding[] = [];
  const ok = (what: string) => findings.push({ ok: true, what });
  const problem = (what: string, fix: string) => findings.push({ ok: false, what, fix });
  const version = await misp.getVersion();
  ok(`MISP ${version} answers at MISP_URL with this API key`);

  const shown = target.address ?? { url: "", port: 0 };
  const values = new Map<string, MispSettingValue>();
  for (const { name, value } of actionServiceSettings(shown)) {
    const current = await misp.readSetting(name);
    values.set(name, current);
    if (typeof value === "boolean") {
      if (settingMatches(current, value)) ok(`${name} is on`);
      else problem(`${name} is off`, `${CONNECT}, or set it to true in MISP's Plugin settings`);
    } else if (target.address && !settingMatches(current, value)) {
      problem(
        `${name} is "${current}" but Flowgate is at "${value}"`,
        `${CONNECT}, or set it to "${value}" in MISP's Plugin settings`,
      );
    }
  }
  if (!settingMatches(values.get(WORKFLOW_ENABLE) ?? null, true)) {
    // MISP answers no workflow route while workflows are off: nothing more can be read.
    return { version, findings };
  }
  const calls = `${values.get("Plugin.Action_services_url")}:${
    values.get("Plugin.Action_services_port")
  }`;
  if (target.address) ok(`MISP calls its Action service at ${calls}`);

  const modules = await misp.listActionModules();
  const triggers = new Map((await misp.listTriggers()).map((trigger) => [trigger.id, trigger]));
  if (target.triggers.length === 0) {
    problem(
      "No trigger has an enabled Flowgate workflow in this KV",
      "create or enable a workflow (check FLOWGATE_KV points at Flowgate's KV)",
    );
  }
  for (const triggerId of target.triggers) {
    const name = moduleNameOf(triggerId);
    const module = modules.find((candidate) => candidate.id === name || candidate.name === name);
    if (!module) {
      problem(
        `MISP does not list Flowgate's module "${name}": it cannot reach Flowgate at ${calls}/modules`,
        `check that Flowgate runs there and that FLOWGATE_MISP_ALLOW allows MISP's address, then ${CONNECT}`,
      );
    } else if (module.disabled) {
      problem(
        `Module "${name}" is disabled in MISP`,
        `${CONNECT}, or enable it under Workflows → Modules`,
      );
    } else {
      ok(`MISP lists module "${name}", enabled`);
    }
    const trigger = triggers.get(triggerId);
    if (!trigger) {
      problem(
        `MISP ${version} has no trigger "${triggerId}"`,
        "upgrade MISP, or disable the Flowgate workflows of this trigger",
      );
      continue;
    }
    if (trigger.disabled) {
      problem(
        `Trigger "${triggerId}" is disabled in MISP`,
        `${CONNECT}, or enable it under Workflows → Triggers`,
      );
    } else {
      ok(`Trigger "${triggerId}" is enabled`);
    }
    const wiring = trigger.workflow
      ? describeModuleWiring(readMispGraph(trigger.workflow.data), triggerId, name)
      : "missing";
    if (wiring === "wired") {
      ok(`Node "${name}" runs right after trigger "${triggerId}"`);
    } else if (wiring === "missing") {
      problem(
        `The workflow of trigger "${triggerId}" has no "${name}" node`,
        `${CONNECT}, or connect the module to the trigger in MISP's workflow editor`,
      );
    } else {
      problem(
        `Node "${name}" is in the workflow of trigger "${triggerId}" but not right after the trigger`,
        `${CONNECT}: it moves the node right after the trigger and keeps your other nodes`,
      );
    }
  }
  return { version, findings };
}
