/**
 * The MISP administration calls `misp:connect` and `misp:check` make, over the one MISP REST
 * client (timeout and retries per call, the key never in a message): version, server settings,
 * workflow modules, triggers with their workflows, workflow edits and toggles. Routes and answer
 * shapes are MISP's (`ServersController`, `WorkflowsController`).
 *
 * @module
 */

import type { MispApi } from "../engine/module_services.ts";

/** A server setting as `GET /servers/serverSettingsEdit/<name>` answers it. */
export type MispSettingValue = string | number | boolean | null;

/** A workflow module as `/workflows/moduleIndex` lists it (the fields Flowgate reads). */
export interface MispWorkflowModule {
  id: string;
  name: string;
  version: string;
  /** True until a site admin enables the module (`/workflows/toggleModule/<id>/1`). */
  disabled: boolean;
  is_misp_module: boolean;
}

/** A trigger as `/workflows/triggers` lists it, with the workflow MISP keeps for it. */
export interface MispTrigger {
  id: string;
  name: string;
  blocking: boolean;
  /** True while `Plugin.Workflow_triggers_<id>` is off. */
  disabled: boolean;
  workflow?: { id: string; name: string; data: unknown };
}

/** The MISP administration calls, each one REST call (see each method). */
export interface MispAdminApi {
  /** `GET /servers/getVersion`: MISP's version, e.g. `2.5.1`. */
  getVersion(): Promise<string>;
  /** `GET /servers/serverSettingsEdit/<name>`: the setting's value (null when unset). */
  readSetting(name: string): Promise<MispSettingValue>;
  /** `POST /servers/serverSettingsEdit/<name>` with `{"value": …}`. */
  writeSetting(name: string, value: MispSettingValue): Promise<void>;
  /** `GET /workflows/moduleIndex/type:action`: the action modules MISP has loaded. */
  listActionModules(): Promise<MispWorkflowModule[]>;
  /** `POST /workflows/toggleModule/<id>/<0|1>`: enables or disables an action module. */
  toggleModule(id: string, enabled: boolean): Promise<void>;
  /** `GET /workflows/triggers`: every trigger with its state and workflow. */
  listTriggers(): Promise<MispTrigger[]>;
  /**
   * `GET /workflows/editor/<trigger>`: makes MISP create the trigger's workflow if it has none.
   * The editor answers a page, not JSON: resolves with MISP's failure message, if any, for the
   * caller to quote when the workflow is still missing.
   */
  createTriggerWorkflow(triggerId: string): Promise<string | undefined>;
  /** `POST /workflows/edit/<id>` with `{"Workflow": {"data": "<graph JSON>"}}`. */
  editWorkflow(workflowId: string, data: unknown): Promise<void>;
  /** `POST /workflows/toggleModule/<trigger>/<0|1>/1`: sets `Plugin.Workflow_triggers_<id>`. */
  toggleTrigger(triggerId: string, enabled: boolean): Promise<void>;
}

/** The administration calls over `api`. */
export function createMispAdminApi(api: MispApi): MispAdminApi {
  return {
    async getVersion() {
      const answer = await api.request<{ version?: unknown }>("GET", "/servers/getVersion");
      if (typeof answer?.version !== "string") {
        throw new TypeError(`MISP's /servers/getVersion answer has no version: is MISP_URL MISP?`);
      }
      return answer.version;
    },
    async readSetting(name) {
      const answer = await api.request<Record<string, unknown>>(
        "GET",
        `/servers/serverSettingsEdit/${encodeURIComponent(name)}`,
      );
      const value = answer?.[name];
      return value === undefined ? null : value as MispSettingValue;
    },
    async writeSetting(name, value) {
      await api.request("POST", `/servers/serverSettingsEdit/${encodeURIComponent(name)}`, {
        value,
      });
    },
    async listActionModules() {
      const answer = await api.request<unknown>("GET", "/workflows/moduleIndex/type:action");
      return listOf(answer).map((raw) => {
        const module = raw as Record<string, unknown>;
        return {
          id: String(module.id),
          name: String(module.name ?? module.id),
          version: String(module.version ?? ""),
          disabled: Boolean(module.disabled),
          is_misp_module: Boolean(module.is_misp_module),
        };
      });
    },
    async toggleModule(id, enabled) {
      await api.request(
        "POST",
        `/workflows/toggleModule/${encodeURIComponent(id)}/${enabled ? 1 : 0}`,
        {},
      );
    },
    async listTriggers() {
      const answer = await api.request<unknown>("GET", "/workflows/triggers");
      return listOf(answer).map((raw) => {
        const trigger = raw as Record<string, unknown>;
        const workflow = trigger.Workflow as Record<string, unknown> | undefined;
        return {
          id: String(trigger.id),
          name: String(trigger.name ?? trigger.id),
          blocking: Boolean(trigger.blocking),
          disabled: Boolean(trigger.disabled),
          ...(workflow && workflow.id !== undefined
            ? {
              workflow: {
                id: String(workflow.id),
                name: String(workflow.name ?? ""),
                data: workflowDataOf(String(trigger.id), workflow.data),
              },
            }
            : {}),
        };
      });
    },
    async createTriggerWorkflow(triggerId) {
      // The editor page creates the trigger's workflow before it renders; its answer is a page,
      // not JSON, so only whether MISP now lists the workflow counts (the caller reads it back).
      try {
        await api.request("GET", `/workflows/editor/${encodeURIComponent(triggerId)}`);
        return undefined;
      } catch (error) {
        if (!(error instanceof Error && error.name === "MispError")) throw error;
        return error.message;
      }
    },
    async editWorkflow(workflowId, data) {
      await api.request("POST", `/workflows/edit/${encodeURIComponent(workflowId)}`, {
        Workflow: { data: JSON.stringify(data) },
      });
    },
    async toggleTrigger(triggerId, enabled) {
      await api.request(
        "POST",
        `/workflows/toggleModule/${encodeURIComponent(triggerId)}/${enabled ? 1 : 0}/1`,
        {},
      );
    },
  };
}

/** A workflow's `data` as MISP lists it: the graph, or its JSON text (which must parse). */
function workflowDataOf(triggerId: string, data: unknown): unknown {
  if (typeof data !== "string") return data;
  try {
    return JSON.parse(data);
  } catch {
    throw new TypeError(
      `MISP's workflow of trigger "${triggerId}" has data that is not JSON ("${
        data.slice(0, 80)
      }"): open it in MISP's workflow editor and save it again`,
    );
  }
}

function listOf(answer: unknown): unknown[] {
  if (Array.isArray(answer)) return answer;
  // PHP encodes a filtered array with gaps as an object keyed by index.
  if (answer !== null && typeof answer === "object") return Object.values(answer);
  throw new TypeError(`MISP answered ${JSON.stringify(answer)?.slice(0, 80)} where a list was due`);
}
