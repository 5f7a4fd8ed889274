/**
 * The administration part of the fake MISP (`misp_server.ts`): server settings, version and the
 * workflow routes `misp:connect` drives, with MISP's answer shapes and checks:
 *
 * - `GET /servers/getVersion` (`ServersController::getVersion`);
 * - `GET|POST /servers/serverSettingsEdit/<name>`: `{"<name>": value}`, body `{"value": …}` (or
 *   `{"Server": {"value": …}}`), "Field updated";
 * - `GET /workflows/moduleIndex[/type:…][/actiontype:…]`: the built-in action modules plus the
 *   action modules the fake reads from `<Action_services_url>:<Action_services_port>/modules`
 *   (1 s, as `Module::getModules`) when `Plugin.Action_services_enable` is on;
 * - `POST /workflows/toggleModule/<id>/<0|1>[/1]`: a module (Redis set) or a trigger
 *   (`Plugin.Workflow_triggers_<id>`);
 * - `GET /workflows/triggers` with each trigger's `disabled` and `Workflow`;
 * - `GET /workflows/editor/<trigger>`: creates the trigger's workflow, answers an HTML page;
 * - `GET /workflows/view/<id>`, `POST /workflows/edit/<id>` with `{"Workflow": {"data": "<JSON>"}}`,
 *   refused as MISP refuses a cycle, other than one trigger, or an output with two connections.
 *
 * While `Plugin.Workflow_enable` is off the workflow routes answer 500 with MISP's requirement
 * message (MISP renders its error page there: `WorkflowsController::beforeFilter`).
 *
 * @module
 */

type Json = Record<string, unknown>;

/** A setting value as MISP stores it. */
export type FakeSettingValue = string | number | boolean | null;

/** A workflow as MISP stores it (`data` decoded). */
export interface FakeWorkflow {
  id: string;
  uuid: string;
  name: string;
  trigger_id: string;
  data: Json;
  timestamp: string;
}

/** The administration state of the fake MISP. */
export interface FakeMispAdminState {
  /** Server settings set so far (unset ones answer MISP's defaults). */
  settings: Map<string, FakeSettingValue>;
  /** Action and logic module ids enabled (MISP's Redis set `workflow:modules_enabled`). */
  enabledModules: Set<string>;
  /** Workflows by id. */
  workflows: Map<string, FakeWorkflow>;
}

/** MISP 2.5's triggers (`app/Model/WorkflowModules/trigger/`): id, name, blocking. */
export const FAKE_MISP_TRIGGERS: { id: string; name: string; blocking: boolean }[] = [
  { id: "attribute-after-save", name: "Attribute After Save", blocking: false },
  { id: "enrichment-before-query", name: "Enrichment Before Query", blocking: true },
  { id: "event-after-save", name: "Event After Save", blocking: false },
  { id: "event-after-save-new", name: "Event After Save New", blocking: false },
  {
    id: "event-after-save-new-from-pull",
    name: "Event After Save New From Pull",
    blocking: false,
  },
  { id: "event-before-save", name: "Event Before Save", blocking: true },
  { id: "event-publish", name: "Event Publish", blocking: true },
  { id: "event-report-after-save", name: "Event Report After Save", blocking: false },
  { id: "log-after-save", name: "Log After Save", blocking: false },
  { id: "object-after-save", name: "Object After Save", blocking: false },
  { id: "post-after-save", name: "Post After Save", blocking: false },
  { id: "shadow-attribute-after-save", name: "Shadow Attribute After Save", blocking: false },
  { id: "shadow-attribute-before-save", name: "Shadow Attribute Before Save", blocking: true },
  { id: "sighting-after-save", name: "Sighting After Save", blocking: false },
  { id: "tag-attached-after-save", name: "Tag Attached After Save", blocking: false },
  { id: "user-after-save", name: "User After Save", blocking: false },
  { id: "user-before-save", name: "User Before Save", blocking: true },
];

/** MISP's defaults of the settings the fake knows (`Server::$serverSettings`). */
const SETTING_DEFAULTS: Record<string, FakeSettingValue> = {
  "Plugin.Workflow_enable": false,
  "Plugin.Action_services_enable": false,
  "Plugin.Action_services_url": "http://127.0.0.1",
  "Plugin.Action_services_port": "6666",
  "Plugin.Action_timeout": 10,
};

/** Built-in action modules the fake lists next to those of the Action service. */
const BUILTIN_ACTIONS = [
  { id: "stop-execution", name: "Stop execution", version: "0.2", blocking: true },
  { id: "tag_operation", name: "Tag operation", version: "0.2", blocking: false },
  { id: "webhook", name: "Webhook", version: "0.7", blocking: false },
];

/** A fake route: method, path pattern, handler of the path's groups and the parsed body. */
export type FakeRoute = [
  string,
  RegExp,
  (params: string[], body: unknown) => Response | Promise<Response>,
];

/** A fresh administration state; `settings` seeds server settings. */
export function createAdminState(
  settings: Record<string, FakeSettingValue> = {},
  workflows: FakeWorkflow[] = [],
): FakeMispAdminState {
  return {
    settings: new Map(Object.entries(settings)),
    enabledModules: new Set(["stop-execution", "webhook"]),
    workflows: new Map(workflows.map((workflow) => [workflow.id, structuredClone(workflow)])),
  };
}

/** The administration routes over `state`. */
export function adminRoutes(state: FakeMispAdminState): FakeRoute[] {
  const setting = (name: string): FakeSettingValue =>
    state.settings.has(name) ? state.settings.get(name)! : SETTING_DEFAULTS[name] ?? null;
  const workflowsOn = (): boolean =>
    [true, 1, "1", "true"].includes(setting("Plugin.Workflow_enable") as never);
  const requireWorkflows = (
    route: FakeRoute[2],
  ): FakeRoute[2] =>
  (params, body) =>
    workflowsOn() ? route(params, body) : json({
      name:
        "The workflow plugin must be enabled to use workflows. Go to `/servers/serverSettings/Plugin` the enable the `Plugin.Workflow` setting",
      message: "The workflow plugin must be enabled to use workflows.",
      url: "/workflows",
    }, 500);
  const triggerWorkflow = (triggerId: string) =>
    [...state.workflows.values()].find((workflow) => workflow.trigger_id === triggerId);

  const listModules = async (): Promise<Json[]> => {
    const modules: Json[] = BUILTIN_ACTIONS.map((module) => ({
      ...module,
      is_misp_module: false,
      module_type: "action",
      multiple_output_connection: false,
    }));
    for (const remote of await actionServiceModules()) {
      const name = String(remote.name);
      const config = ((remote.meta as Json | undefined)?.config ?? {}) as Json;
      modules.push({
        id: underscore(name),
        name,
        version: "0.1",
        blocking: Boolean(config.blocking),
        expect_misp_core_format: Boolean(config.expect_misp_core_format),
        is_misp_module: true,
        module_type: "action",
        multiple_output_connection: false,
      });
    }
    return modules.map((module) => ({
      ...module,
      disabled: !state.enabledModules.has(String(module.id)),
    }));
  };

  const actionServiceModules = async (): Promise<Json[]> => {
    if (![true, 1, "1", "true"].includes(setting("Plugin.Action_services_enable") as never)) {
      return [];
    }
    const url = `${setting("Plugin.Action_services_url")}:${
      setting("Plugin.Action_services_port")
    }/modules`;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (!response.ok) {
        await response.body?.cancel();
        return [];
      }
      const modules = await response.json();
      return (Array.isArray(modules) ? modules : []).filter((module: Json) =>
        ((module.meta as Json | undefined)?.["module-type"] as string[] | undefined)?.includes(
          "action",
        )
      );
    } catch {
      return [];
    }
  };

  const triggerList = (): Json[] =>
    FAKE_MISP_TRIGGERS.map((trigger) => {
      const workflow = triggerWorkflow(trigger.id);
      return {
        ...trigger,
        module_type: "trigger",
        scope: trigger.id.split("-")[0],
        disabled: ![true, 1, "1", "true"].includes(
          setting(`Plugin.Workflow_triggers_${trigger.id}`) as never,
        ),
        ...(workflow ? { Workflow: structuredClone(workflow) } : {}),
      };
    });

  return [
    ["GET", /^\/servers\/getVersion$/, () =>
      json({
        version: "2.5.1",
        pymisp_recommended_version: "2.5.1",
        perm_sync: true,
        perm_sighting: true,
        perm_galaxy_editor: true,
        perm_analyst_data: true,
        uuid: "5f6e7d8c-0000-4000-8000-000000000001",
        request_encoding: ["gzip"],
        filter_sightings: true,
      })],
    ["GET", /^\/servers\/serverSettingsEdit\/([^/]+)$/, ([name]) => {
      if (!(name! in SETTING_DEFAULTS) && !name!.startsWith("Plugin.Workflow_triggers_")) {
        return json({ name: `Setting ${name} is invalid.`, message: "", url: "" }, 404);
      }
      return json({ [name!]: setting(name!) });
    }],
    ["POST", /^\/servers\/serverSettingsEdit\/([^/]+)$/, ([name], body) => {
      if (!(name! in SETTING_DEFAULTS)) {
        return json({ name: `Setting ${name} is invalid.`, message: "", url: "" }, 404);
      }
      const request = (body ?? {}) as Json;
      const value = ((request.Server ?? request) as Json).value;
      if (value === undefined || (value !== null && typeof value === "object")) {
        return saveFail(
          "Servers",
          "serverSettingsEdit",
          'Invalid input. Expected: {"value": "new_setting"}',
        );
      }
      state.settings.set(name!, value as FakeSettingValue);
      return json({
        saved: true,
        success: true,
        name: "Field updated",
        message: "Field updated",
        url: "/servers/serverSettingsEdit",
      });
    }],
    [
      "GET",
      /^\/workflows\/moduleIndex(\/.*)?$/,
      requireWorkflows(async ([named]) => {
        const filters = namedParams(named);
        const modules = await listModules();
        return json(
          filters.actiontype === "mispmodule"
            ? modules.filter((module) => module.is_misp_module)
            : modules,
        );
      }),
    ],
    [
      "POST",
      /^\/workflows\/toggleModule\/([^/]+)\/([01])(?:\/([01]))?$/,
      requireWorkflows(([id, enabled, isTrigger]) => {
        const on = enabled === "1";
        if (isTrigger === "1") {
          state.settings.set(`Plugin.Workflow_triggers_${id}`, on);
        } else if (on) {
          state.enabledModules.add(id!);
        } else {
          state.enabledModules.delete(id!);
        }
        const message = `${on ? "Enabled" : "Disabled"} module ${id}`;
        return json({
          saved: true,
          success: true,
          name: message,
          message,
          url: `/workflows/toggle_module/${id}`,
          id,
        });
      }),
    ],
    ["GET", /^\/workflows\/triggers(\/.*)?$/, requireWorkflows(() => json(triggerList()))],
    [
      "GET",
      /^\/workflows\/editor\/([^/]+)$/,
      requireWorkflows(([triggerId]) => {
        const trigger = FAKE_MISP_TRIGGERS.find((candidate) => candidate.id === triggerId);
        if (!trigger) return saveFail("Workflow", "add", `Unkown trigger ${triggerId}`);
        if (!triggerWorkflow(trigger.id)) {
          const id = String(state.workflows.size + 1);
          state.workflows.set(id, {
            id,
            uuid: crypto.randomUUID(),
            name: `Workflow for trigger ${trigger.id}`,
            trigger_id: trigger.id,
            timestamp: String(Math.floor(Date.now() / 1_000)),
            data: {
              1: {
                class: "block-type-trigger",
                data: { ...trigger, module_type: "trigger" },
                id: 1,
                inputs: [],
                outputs: { output_1: { connections: [] } },
                pos_x: 0,
                pos_y: 0,
                typenode: false,
              },
            },
          });
        }
        return new Response("<!DOCTYPE html><html><body>Workflow editor</body></html>", {
          headers: { "content-type": "text/html; charset=UTF-8" },
        });
      }),
    ],
    [
      "GET",
      /^\/workflows\/view\/([^/]+)$/,
      requireWorkflows(([id]) => {
        const workflow = state.workflows.get(id!);
        return workflow
          ? json({ Workflow: structuredClone(workflow) })
          : json({ name: "Invalid workflow", message: "Invalid workflow", url: "" }, 404);
      }),
    ],
    [
      "POST",
      /^\/workflows\/edit\/([^/]+)$/,
      requireWorkflows(([id], body) => {
        const workflow = state.workflows.get(id!);
        if (!workflow) {
          return json({ name: "Invalid workflow", message: "Invalid workflow", url: "" }, 404);
        }
        const raw = ((body ?? {}) as Json).Workflow as Json | undefined;
        let data: unknown;
        try {
          data = JSON.parse(String(raw?.data));
        } catch {
          return saveFail("Workflow", "edit", "Invalid JSON in Workflow.data", id);
        }
        const errors = validateGraph(data);
        if (errors.length > 0) return saveFail("Workflow", "edit", errors.join(", "), id);
        workflow.data = data as Json;
        workflow.timestamp = String(Math.floor(Date.now() / 1_000));
        return json({ Workflow: structuredClone(workflow) });
      }),
    ],
  ];
}

/** MISP's `Workflow::$validate` rules on `data`, with its messages. */
function validateGraph(data: unknown): string[] {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return ["Cannot save a workflow containing no or more than one trigger"];
  }
  const nodes = Object.entries(data as Json).filter(([key]) => key !== "_frames")
    .map(([, node]) => node as Json);
  const errors: string[] = [];
  const outputsOf = (node: Json) =>
    Object.values((node.outputs ?? {}) as Record<string, { connections?: Json[] }>);
  const edges = new Map<string, string[]>();
  for (const node of nodes) {
    edges.set(
      String(node.id),
      outputsOf(node).flatMap((port) => (port.connections ?? []).map((link) => String(link.node))),
    );
  }
  const visiting = new Set<string>();
  const done = new Set<string>();
  const cyclic = (id: string): boolean => {
    if (visiting.has(id)) return true;
    if (done.has(id)) return false;
    visiting.add(id);
    const found = (edges.get(id) ?? []).some(cyclic);
    visiting.delete(id);
    done.add(id);
    return found;
  };
  if ([...edges.keys()].some(cyclic)) errors.push("Cannot save a workflow containing a cycle");
  const triggers = nodes.filter((node) =>
    (node.data as Json | undefined)?.module_type === "trigger"
  );
  if (triggers.length !== 1) {
    errors.push("Cannot save a workflow containing no or more than one trigger");
  }
  const crowded = nodes.some((node) =>
    !(node.data as Json | undefined)?.multiple_output_connection &&
    outputsOf(node).some((port) => (port.connections ?? []).length > 1)
  );
  if (crowded) errors.push("Cannot save a workflow having more than one connection per output");
  return errors;
}

function namedParams(path: string | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  for (const part of (path ?? "").split("/")) {
    const [name, value] = part.split(":");
    if (name && value !== undefined) params[name] = value;
  }
  return params;
}

/** CakePHP's `Inflector::underscore` for the names misp-modules use. */
function underscore(name: string): string {
  return name.replace(/(?<=[a-z0-9])([A-Z])/g, "_$1").toLowerCase();
}

function saveFail(controller: string, action: string, errors: string, id?: string): Response {
  const message = `Could not ${action} ${controller.replace(/s$/, "")}`;
  return json({
    saved: false,
    name: message,
    message,
    url: `/${controller.toLowerCase()}/${action}${id ? `/${id}` : ""}`,
    errors,
    ...(id ? { id } : {}),
  }, 403);
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}
