/**
 * Admin API for workflows: list, get (JSON, YAML or MISP JSON), create and replace from YAML, MISP
 * JSON or a blueprint, delete, enable, disable, versions and dry runs. Every change is audited.
 *
 * @module
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Context } from "hono";
import { exportMispWorkflow } from "../../engine/misp_codec.ts";
import type { JsonObject, Workflow } from "../../engine/model.ts";
import { MAX_WORKFLOW_BYTES } from "../../engine/limits.ts";
import { validateWorkflow } from "../../engine/validate.ts";
import { parseWorkflowSource } from "../../engine/workflow_source.ts";
import { stringifyWorkflowYaml } from "../../engine/yaml_codec.ts";
import { MODULE_CATALOG } from "../../modules/registry.ts";
import { appendAudit } from "../../store/audit.ts";
import { ConflictError } from "../../store/errors.ts";
import type { SourceFormat, StoredWorkflow } from "../../store/types.ts";
import {
  createWorkflow,
  deleteWorkflow,
  getWorkflow,
  getWorkflowVersion,
  listWorkflows,
  listWorkflowVersions,
  replaceWorkflow,
  setWorkflowEnabled,
} from "../../store/workflows.ts";
import { RequestProblemsError } from "../errors.ts";
import type { AppContext, AppEnv } from "../../services/context.ts";
import { type DryRunContext, dryRunWorkflow } from "../../services/dry_run.ts";
import { enableWorkflow, needsTriggerMessage } from "../../services/enable_workflow.ts";
import { parseJsonBody } from "./json_body.ts";
import { pathId, queryFilter } from "./params.ts";

/** The actor every admin API change is recorded under. */
export const API_ACTOR = "api:admin";

const YAML_TYPES = new Set(["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"]);
const JSON_TYPES = new Set(["application/json"]);
const DURATION_UNITS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses `90s`, `30m`, `2h`, `1d` (or a sum like `1h30m`) into milliseconds. */
export function parseDuration(text: string): number {
  const parts = [...text.trim().matchAll(/(\d+)\s*([smhd])/g)];
  const consumed = parts.map((part) => part[0]).join("");
  if (parts.length === 0 || consumed.replaceAll(" ", "") !== text.trim().replaceAll(" ", "")) {
    throw new HTTPException(400, {
      message: `Invalid duration "${text}": use a number and a unit, e.g. "90s", "30m", "2h", "1d"`,
    });
  }
  return parts.reduce((sum, part) => sum + Number(part[1]) * DURATION_UNITS[part[2]!]!, 0);
}

/** `?enable=true|false`, or undefined when absent. */
function enableQuery(value: string | undefined): boolean | undefined {
  if (value === undefined || value === "") return undefined;
  if (value === "true" || value === "false") return value === "true";
  throw new HTTPException(400, { message: `Invalid "enable" value "${value}": use true or false` });
}

/**
 * `parseWorkflowSource`, with its limit refusals (too many nodes, nested too deeply) as 400s
 * rather than the `RangeError`s the engine may throw.
 */
function parseWorkflowSourceOrRefuse(
  text: string,
  options: Parameters<typeof parseWorkflowSource>[1],
): ReturnType<typeof parseWorkflowSource> {
  try {
    return parseWorkflowSource(text, options);
  } catch (error) {
    if (error instanceof RangeError) {
      throw new HTTPException(400, {
        message: /Maximum call stack/i.test(error.message)
          ? "Workflow source nested too deeply: flatten it"
          : error.message,
        cause: error,
      });
    }
    throw error;
  }
}

/** The workflow routes. */
export function workflowRoutes(ctx: Pick<AppContext, "kv" | "now"> & DryRunContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  async function load(c: Context<AppEnv>): Promise<StoredWorkflow> {
    const id = pathId(c, "workflow");
    const stored = await getWorkflow(ctx.kv, id);
    if (stored === null) throw new HTTPException(404, { message: `Workflow "${id}" not found` });
    return stored;
  }

  /** Dir-managed workflows are edited in their file: an API edit would be silently undone. */
  function assertEditable(stored: StoredWorkflow): void {
    if (stored.managed_by === "dir") {
      throw new ConflictError(
        `Cannot change workflow "${stored.name}": it is managed by FLOWGATE_WORKFLOWS_DIR; edit its file`,
      );
    }
  }

  async function readSource(c: Context<AppEnv>): Promise<{
    workflow: Workflow;
    format: SourceFormat;
    warnings: unknown[];
  }> {
    const type = c.req.header("Content-Type")?.split(";")[0]?.trim().toLowerCase();
    if (type !== undefined && !YAML_TYPES.has(type) && !JSON_TYPES.has(type)) {
      throw new HTTPException(415, {
        message: `Unsupported content type "${type}": send YAML (application/yaml) or MISP ` +
          "workflow JSON or a blueprint (application/json)",
      });
    }
    const bytes = await c.req.bytes();
    if (bytes.byteLength > MAX_WORKFLOW_BYTES) {
      throw new HTTPException(413, {
        message: `Workflow source too large: ${bytes.byteLength} bytes, the limit is ` +
          `${MAX_WORKFLOW_BYTES} bytes`,
      });
    }
    const text = new TextDecoder().decode(bytes);
    const trigger = queryFilter(c.req.query("trigger"), "trigger");
    const enable = enableQuery(c.req.query("enable"));
    const parsed = parseWorkflowSourceOrRefuse(text, {
      catalog: MODULE_CATALOG,
      ...(type ? { contentType: type } : {}),
      ...(trigger ? { trigger } : {}),
    });
    // Blueprints import disabled (a fragment must not start blocking on import); ?enable= decides.
    if (enable !== undefined) parsed.workflow.enabled = enable;
    const { errors, warnings } = validateWorkflow(parsed.workflow, MODULE_CATALOG);
    if (errors.length > 0) {
      throw new RequestProblemsError(
        `Cannot save workflow "${parsed.workflow.name}": ${
          errors.map((problem) => problem.message).join("; ")
        }`,
        errors,
        warnings,
      );
    }
    return { workflow: parsed.workflow, format: parsed.format, warnings };
  }

  app.get("/", async (c) => {
    const trigger = queryFilter(c.req.query("trigger"), "trigger");
    return c.json({ items: await listWorkflows(ctx.kv, trigger ? { trigger } : {}) });
  });

  app.post("/", async (c) => {
    const { workflow, format, warnings } = await readSource(c);
    const stored = await createWorkflow(ctx.kv, workflow, {
      actor: API_ACTOR,
      sourceFormat: format,
    });
    await appendAudit(ctx.kv, {
      actor: API_ACTOR,
      action: "workflow.create",
      target: stored.id,
      details: { name: stored.name, trigger: workflow.trigger, format, version: stored.version },
    });
    return c.json({ workflow: stored, warnings }, 201);
  });

  app.get("/:id", async (c) => {
    const stored = await load(c);
    const format = c.req.query("format") ?? "json";
    if (format === "yaml") {
      return c.body(stringifyWorkflowYaml(stored.workflow, MODULE_CATALOG), 200, {
        "Content-Type": "application/yaml; charset=utf-8",
      });
    }
    if (format === "misp") {
      if (stored.workflow.trigger === null) {
        throw new ConflictError(
          `Cannot export workflow "${stored.name}" as a MISP workflow: it has no trigger; choose a trigger first`,
        );
      }
      return c.json(exportMispWorkflow(stored.workflow, MODULE_CATALOG));
    }
    if (format !== "json") {
      throw new HTTPException(400, {
        message: `Unknown format "${format}": use json, yaml or misp`,
      });
    }
    return c.json(stored);
  });

  app.put("/:id", async (c) => {
    const current = await load(c);
    assertEditable(current);
    const expected = c.req.query("expected_version") ??
      c.req.header("If-Match")?.replaceAll('"', "");
    if (expected !== undefined && !/^\d+$/.test(expected)) {
      throw new HTTPException(400, { message: `Invalid expected version "${expected}"` });
    }
    const { workflow, format, warnings } = await readSource(c);
    const stored = await replaceWorkflow(ctx.kv, current.id, workflow, {
      actor: API_ACTOR,
      sourceFormat: format,
      ...(expected !== undefined ? { expectedVersion: Number(expected) } : {}),
    });
    await appendAudit(ctx.kv, {
      actor: API_ACTOR,
      action: "workflow.replace",
      target: stored.id,
      details: { name: stored.name, format, version: stored.version },
    });
    return c.json({ workflow: stored, warnings });
  });

  app.delete("/:id", async (c) => {
    const stored = await load(c);
    assertEditable(stored);
    await deleteWorkflow(ctx.kv, stored.id, { actor: API_ACTOR });
    await appendAudit(ctx.kv, {
      actor: API_ACTOR,
      action: "workflow.delete",
      target: stored.id,
      details: { name: stored.name, version: stored.version },
    });
    return c.json({ deleted: stored.id });
  });

  app.post("/:id/enable", async (c) => {
    const stored = await load(c);
    const text = await c.req.text();
    const body = text.trim() === "" ? {} : parseJsonBody(text);
    if (body.trigger !== undefined && typeof body.trigger !== "string") {
      throw new HTTPException(400, { message: 'Field "trigger": expected a trigger id string' });
    }
    const trigger = queryFilter(body.trigger ?? c.req.query("trigger"), "trigger");
    const next = await enableWorkflow(ctx.kv, stored, {
      actor: API_ACTOR,
      ...(trigger ? { trigger } : {}),
    });
    const attached = stored.workflow.trigger === null ? { trigger: next.workflow.trigger } : {};
    await appendAudit(ctx.kv, {
      actor: API_ACTOR,
      action: "workflow.enable",
      target: stored.id,
      details: { name: stored.name, version: next.version, ...attached },
    });
    return c.json({ workflow: next });
  });

  app.post("/:id/disable", async (c) => {
    const stored = await load(c);
    const text = await c.req.text();
    const body = text.trim() === "" ? {} : parseJsonBody(text);
    let until: string | undefined;
    if (typeof body.until === "string") {
      if (Number.isNaN(Date.parse(body.until))) {
        throw new HTTPException(400, { message: `Invalid "until" time "${body.until}"` });
      }
      until = new Date(body.until).toISOString();
    } else if (typeof body.for === "string") {
      until = new Date(ctx.now() + parseDuration(body.for)).toISOString();
    } else if (body.until !== undefined || body.for !== undefined) {
      throw new HTTPException(400, {
        message: 'Send {"until": "<ISO time>"} or {"for": "2h"}, or no body to disable for good',
      });
    }
    const next = await setWorkflowEnabled(ctx.kv, stored.id, false, {
      actor: API_ACTOR,
      ...(until ? { until } : {}),
    });
    await appendAudit(ctx.kv, {
      actor: API_ACTOR,
      action: "workflow.disable",
      target: stored.id,
      details: { name: stored.name, version: next.version, ...(until ? { until } : {}) },
    });
    return c.json({ workflow: next });
  });

  app.get("/:id/versions", async (c) => {
    const stored = await load(c);
    return c.json({ items: await listWorkflowVersions(ctx.kv, stored.id) });
  });

  app.get("/:id/versions/:version", async (c) => {
    const stored = await load(c);
    const version = Number(c.req.param("version"));
    const found = Number.isInteger(version)
      ? await getWorkflowVersion(ctx.kv, stored.id, version)
      : null;
    if (found === null) {
      throw new HTTPException(404, {
        message: `Workflow "${stored.id}" has no version "${c.req.param("version")}"`,
      });
    }
    const format = c.req.query("format");
    if (format === "yaml") {
      return c.body(stringifyWorkflowYaml(found.workflow, MODULE_CATALOG), 200, {
        "Content-Type": "application/yaml; charset=utf-8",
      });
    }
    return c.json(found);
  });

  app.post("/:id/dry-run", async (c) => {
    const stored = await load(c);
    if (stored.workflow.trigger === null) throw new ConflictError(needsTriggerMessage(stored.name));
    const input = parseJsonBody(await c.req.text()) as JsonObject;
    const { run, result } = await dryRunWorkflow(ctx, stored, { input, actor: API_ACTOR });
    return c.json({ run, verdict: result.success ? "allow" : "block" });
  });

  return app;
}
