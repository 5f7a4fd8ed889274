/**
 * Admin API for runs: list with filters and cursors, get with trace (and input), replay against
 * the stored or the current workflow version, dry or live, answering the replay run with its
 * node-by-node `diff` from the original (409 once the run's replay budget is used up).
 *
 * @module
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Outcome } from "../../engine/model.ts";
import { getRun, getRunInput, listRuns } from "../../store/runs.ts";
import { getWorkflow } from "../../store/workflows.ts";
import type { AppContext, AppEnv } from "../../services/context.ts";
import { type ReplayContext, replayWithDiff } from "../../services/replay.ts";
import { API_ACTOR } from "./api_workflows.ts";
import { parseJsonBody } from "./json_body.ts";
import { parseCursor, pathId, queryFilter } from "./params.ts";

const OUTCOMES = new Set<Outcome>([
  "success",
  "blocked",
  "failure",
  "pending-approval",
  "retrying",
]);

/** What the run routes use: the store, and what a replay needs. */
export type RunRoutesContext = Pick<AppContext, "kv"> & ReplayContext;

/** The run routes. */
export function runRoutes(ctx: RunRoutesContext): Hono<AppEnv> {
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
    const workflow = queryFilter(query.workflow, "workflow");
    const trigger = queryFilter(query.trigger, "trigger");
    const event = queryFilter(query.event, "event");
    const cursor = parseCursor(query.cursor);
    const page = await listRuns(ctx.kv, {
      ...(workflow ? { workflowId: await resolveWorkflowId(ctx, workflow) } : {}),
      ...(trigger ? { trigger } : {}),
      ...(outcome ? { outcome: outcome as Outcome } : {}),
      ...(event ? eventFilter(event) : {}),
      ...(query.since ? { since: query.since } : {}),
      ...(query.until ? { until: query.until } : {}),
      ...(limit ? { limit } : {}),
      ...(cursor ? { cursor } : {}),
    });
    return c.json({
      items: page.items.map(({ trace: _trace, ...summary }) => summary),
      ...(page.cursor ? { cursor: page.cursor } : {}),
    });
  });

  app.get("/:id", async (c) => {
    const id = pathId(c, "run");
    const run = await getRun(ctx.kv, id);
    if (run === null) throw new HTTPException(404, { message: `Run "${id}" not found` });
    if (c.req.query("input") === "1" || c.req.query("input") === "true") {
      return c.json({ ...run, input: await getRunInput(ctx.kv, id) });
    }
    return c.json(run);
  });

  app.get("/:id/input", async (c) => {
    const id = pathId(c, "run");
    const input = await getRunInput(ctx.kv, id);
    if (input === null) throw new HTTPException(404, { message: `Input of run "${id}" not found` });
    return c.json(input);
  });

  app.post("/:id/replay", async (c) => {
    const id = pathId(c, "run");
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
    const { run, diff, replays } = await replayWithDiff(ctx, id, {
      mode,
      dry,
      actor: { kind: "replay", id: API_ACTOR },
    });
    return c.json({ ...run, diff, replays }, 201);
  });

  return app;
}

async function resolveWorkflowId(
  ctx: Pick<AppContext, "kv">,
  idOrName: string,
): Promise<string> {
  return (await getWorkflow(ctx.kv, idOrName))?.id ?? idOrName;
}

/** `event=` takes the event's uuid or MISP's numeric event id. */
function eventFilter(event: string): { eventUuid: string } | { eventId: string } {
  return /^\d+$/.test(event) ? { eventId: event } : { eventUuid: event };
}
