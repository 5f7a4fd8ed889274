/**
 * Admin API for runs: list with filters and cursors, get with trace (and input), replay against
 * the stored or the current workflow version, dry or live.
 *
 * @module
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { JsonObject, Outcome, Workflow } from "../../engine/model.ts";
import { runWorkflow } from "../../engine/run_workflow.ts";
import { appendAudit } from "../../store/audit.ts";
import { getRun, getRunInput, listRuns, saveRuns } from "../../store/runs.ts";
import type { StoredWorkflow } from "../../store/types.ts";
import { getWorkflow, getWorkflowVersion } from "../../store/workflows.ts";
import type { AppEnv, ServerContext } from "../deps.ts";
import { scheduleFollowUps } from "../queue.ts";
import { buildRunRecord, newRunId } from "../run_record.ts";
import { API_ACTOR } from "./api_workflows.ts";
import { parseJsonBody } from "./json_body.ts";

const OUTCOMES = new Set<Outcome>(["success", "blocked", "failure", "pending-approval"]);

/** The run routes. */
export function runRoutes(ctx: ServerContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/", async (c) => {
    const query = c.req.query();
    const outcome = query.outcome;
    if (outcome !== undefined && !OUTCOMES.has(outcome as Outcome)) {
      throw new HTTPException(400, {
        message: `Unknown outcome "${outcome}": use ${[...OUTCOMES].join(", ")}`,
      });
    }
    for (const field of ["since", "until"] as const) {
      const value = query[field];
      if (value !== undefined && Number.isNaN(Date.parse(value))) {
        throw new HTTPException(400, { message: `Invalid "${field}" time "${value}"` });
      }
    }
    const limit = query.limit === undefined ? undefined : Number(query.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      throw new HTTPException(400, { message: `Invalid limit "${query.limit}"` });
    }
    const page = await listRuns(ctx.kv, {
      ...(query.workflow ? { workflowId: await resolveWorkflowId(ctx, query.workflow) } : {}),
      ...(query.trigger ? { trigger: query.trigger } : {}),
      ...(outcome ? { outcome: outcome as Outcome } : {}),
      ...(query.event ? { eventUuid: query.event } : {}),
      ...(query.since ? { since: query.since } : {}),
      ...(query.until ? { until: query.until } : {}),
      ...(limit ? { limit } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
    return c.json({
      items: page.items.map(({ trace: _trace, ...summary }) => summary),
      ...(page.cursor ? { cursor: page.cursor } : {}),
    });
  });

  app.get("/:id", async (c) => {
    const id = c.req.param("id");
    const run = await getRun(ctx.kv, id);
    if (run === null) throw new HTTPException(404, { message: `Run "${id}" not found` });
    if (c.req.query("input") === "1" || c.req.query("input") === "true") {
      return c.json({ ...run, input: await getRunInput(ctx.kv, id) });
    }
    return c.json(run);
  });

  app.get("/:id/input", async (c) => {
    const id = c.req.param("id");
    const input = await getRunInput(ctx.kv, id);
    if (input === null) throw new HTTPException(404, { message: `Input of run "${id}" not found` });
    return c.json(input);
  });

  app.post("/:id/replay", async (c) => {
    const id = c.req.param("id");
    const text = await c.req.text();
    const body = text.trim() === "" ? {} : parseJsonBody(text);
    const mode = body.mode ?? "original";
    if (mode !== "original" && mode !== "current") {
      throw new HTTPException(400, {
        message: `Unknown replay mode "${mode}": use original or current`,
      });
    }
    const dry = body.dry ?? true;
    if (typeof dry !== "boolean") {
      throw new HTTPException(400, { message: '"dry" must be a boolean' });
    }
    const original = await getRun(ctx.kv, id);
    if (original === null) throw new HTTPException(404, { message: `Run "${id}" not found` });
    const input = await getRunInput(ctx.kv, id);
    if (input === null) throw new HTTPException(404, { message: `Input of run "${id}" not found` });
    const current = await getWorkflow(ctx.kv, original.workflow_id);
    let target: Pick<StoredWorkflow, "id" | "name" | "version" | "workflow"> | null = null;
    if (mode === "current") {
      target = current;
    } else {
      const version = await getWorkflowVersion(
        ctx.kv,
        original.workflow_id,
        original.workflow_version,
      );
      if (version) {
        target = {
          id: original.workflow_id,
          name: original.workflow_name,
          version: version.version,
          workflow: version.workflow as Workflow,
        };
      }
    }
    if (target === null) {
      throw new HTTPException(404, {
        message: `Workflow "${original.workflow_id}" (${mode} version) of run "${id}" not found`,
      });
    }
    const startedAt = ctx.now();
    const result = await runWorkflow(target.workflow, input as JsonObject, {
      services: ctx.services,
      modules: ctx.modules,
      dryRun: dry,
      workflowId: target.id,
    });
    const run = buildRunRecord(target, result, {
      runId: newRunId(),
      actor: { kind: "replay", id: API_ACTOR },
      startedAt,
      finishedAt: ctx.now(),
      input,
      inputHash: "",
      dryRun: dry,
      replayOf: id,
      mode,
    });
    const writes: Promise<void>[] = [
      saveRuns(ctx.kv, [{ run, input }], { retentionDays: ctx.config.retentionDays }),
    ];
    if (!dry && (result.deferred.length > 0 || result.retries.length > 0)) {
      writes.push(scheduleFollowUps(ctx, target, run.id, result));
    }
    await Promise.all(writes);
    ctx.metrics.recordRun(run.trigger, run.outcome);
    await appendAudit(ctx.kv, {
      actor: API_ACTOR,
      action: "run.replay",
      target: id,
      details: { run_id: run.id, mode, dry, outcome: run.outcome },
    });
    return c.json(run, 201);
  });

  return app;
}

async function resolveWorkflowId(ctx: ServerContext, idOrName: string): Promise<string> {
  return (await getWorkflow(ctx.kv, idOrName))?.id ?? idOrName;
}
