/**
 * The runs page: runs newest first, filtered by workflow, trigger, outcome, event and time, with
 * cursor paging.
 *
 * @module
 */

// Rendered once on the server: list keys do nothing here, and Hono would print them as attributes.
// deno-lint-ignore-file jsx-key

import { Hono } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { Outcome } from "../../engine/model.ts";
import { listRuns, type ListRunsOptions } from "../../store/runs.ts";
import type { RunRecord } from "../../store/types.ts";
import { listWorkflows } from "../../store/workflows.ts";
import type { ConsoleContext, ConsoleEnv } from "./context.ts";
import { Badge, Page, Time } from "./layout.tsx";

/** Runs per page. */
export const RUNS_PAGE_SIZE = 50;

const OUTCOMES: Outcome[] = ["success", "blocked", "failure", "pending-approval", "retrying"];
const FILTERS = ["workflow", "trigger", "outcome", "event", "since", "until"] as const;

type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

/** A `datetime-local` value (no zone) read as UTC; other ISO times as they are. */
function parseTime(value: string): string | undefined {
  const text = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value}Z` : value;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function readFilters(query: Record<string, string>): { filters: Filters; problems: string[] } {
  const filters: Filters = {};
  const problems: string[] = [];
  for (const name of FILTERS) {
    const value = query[name]?.trim();
    if (value) filters[name] = value;
  }
  if (filters.outcome !== undefined && !OUTCOMES.includes(filters.outcome as Outcome)) {
    problems.push(`Unknown outcome "${filters.outcome}"`);
    delete filters.outcome;
  }
  for (const name of ["since", "until"] as const) {
    if (filters[name] !== undefined && parseTime(filters[name]!) === undefined) {
      problems.push(`Invalid "${name}" time "${filters[name]}"`);
      delete filters[name];
    }
  }
  return { filters, problems };
}

function pageLink(filters: Filters, cursor?: string): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
  if (cursor) params.set("cursor", cursor);
  const text = params.toString();
  return text === "" ? "/runs" : `/runs?${text}`;
}

function RunRow(props: { run: RunRecord }): JSX.Element {
  const { run } = props;
  return (
    <tr data-run={run.id}>
      <td data-label="Started">
        <a href={`/runs/${run.id}`}>
          <Time iso={run.started_at} />
        </a>
      </td>
      <td data-label="Workflow">
        <a href={`/workflows/${run.workflow_id}`}>{run.workflow_name}</a>
        <span class="muted small">{` v${run.workflow_version}`}</span>
      </td>
      <td class="hide-narrow" data-label="Trigger">
        <code class="nowrap">{run.trigger}</code>
      </td>
      <td data-label="Outcome">
        <Badge kind={run.outcome} />
        {run.dry_run && (
          <>
            {" "}
            <Badge kind="dry">dry run</Badge>
          </>
        )}
      </td>
      <td data-label="Event">
        {run.event
          ? (
            <>
              <div>{run.event.info ?? ""}</div>
              {run.event.uuid && (
                <a class="muted small uuid" href={pageLink({ event: run.event.uuid })}>
                  {run.event.uuid}
                </a>
              )}
            </>
          )
          : <span class="muted">—</span>}
      </td>
      <td class="hide-narrow nowrap" data-label="Duration">{`${run.duration_ms.toFixed(1)} ms`}</td>
      <td class="hide-narrow small" data-label="Started by">
        {`${run.actor.kind}${run.actor.id ? ` ${run.actor.id}` : ""}`}
      </td>
    </tr>
  );
}

/** The runs list route. */
export function runsRoutes(ctx: Pick<ConsoleContext, "kv">): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();

  app.get("/runs", async (c) => {
    const { filters, problems } = readFilters(c.req.query());
    const cursor = c.req.query("cursor") || undefined;
    const workflows = await listWorkflows(ctx.kv);
    const workflowId = filters.workflow === undefined
      ? undefined
      : workflows.find((w) => w.id === filters.workflow || w.name === filters.workflow)?.id ??
        filters.workflow;
    const options: ListRunsOptions = {
      limit: RUNS_PAGE_SIZE,
      ...(workflowId ? { workflowId } : {}),
      ...(filters.trigger ? { trigger: filters.trigger } : {}),
      ...(filters.outcome ? { outcome: filters.outcome as Outcome } : {}),
      ...(filters.event ? { eventUuid: filters.event } : {}),
      ...(filters.since ? { since: parseTime(filters.since)! } : {}),
      ...(filters.until ? { until: parseTime(filters.until)! } : {}),
      ...(cursor ? { cursor } : {}),
    };
    const page = await listRuns(ctx.kv, options);
    const triggers = [
      ...new Set(workflows.flatMap((w) => w.workflow.trigger === null ? [] : [w.workflow.trigger])),
    ];
    if (filters.trigger && !triggers.includes(filters.trigger)) triggers.push(filters.trigger);
    return c.html(
      <Page title="Runs" section="runs" csrf={c.get("session").csrf}>
        <h1>Runs</h1>
        <form method="get" action="/runs" class="card filters">
          <label>
            Workflow
            <select name="workflow">
              <option value="">any</option>
              {workflows.map((w) => (
                <option value={w.id} selected={w.id === workflowId}>{w.name}</option>
              ))}
            </select>
          </label>
          <label>
            Trigger
            <select name="trigger">
              <option value="">any</option>
              {triggers.map((t) => <option value={t} selected={t === filters.trigger}>{t}</option>)}
            </select>
          </label>
          <label>
            Outcome
            <select name="outcome">
              <option value="">any</option>
              {OUTCOMES.map((o) => <option value={o} selected={o === filters.outcome}>{o}</option>)}
            </select>
          </label>
          <label>
            Event UUID
            <input name="event" value={filters.event ?? ""} size={36} />
          </label>
          <label>
            Since (UTC)
            <input type="datetime-local" name="since" value={filters.since ?? ""} />
          </label>
          <label>
            Until (UTC)
            <input type="datetime-local" name="until" value={filters.until ?? ""} />
          </label>
          <button type="submit" class="primary">Filter</button>
          <a href="/runs">Reset</a>
        </form>
        {problems.map((problem) => <p class="error">{problem}</p>)}
        <section class="card">
          {page.items.length === 0 ? <p class="muted">No runs match.</p> : (
            <div class="scroll">
              <table class="cards">
                <thead>
                  <tr>
                    <th>Started (UTC)</th>
                    <th>Workflow</th>
                    <th class="hide-narrow">Trigger</th>
                    <th>Outcome</th>
                    <th>Event</th>
                    <th class="hide-narrow">Duration</th>
                    <th class="hide-narrow">Started by</th>
                  </tr>
                </thead>
                <tbody>{page.items.map((run) => <RunRow run={run} />)}</tbody>
              </table>
            </div>
          )}
          <nav class="pager">
            {cursor && <a href={pageLink(filters)}>First page</a>}
            {page.cursor && <a href={pageLink(filters, page.cursor)} rel="next">Next page</a>}
          </nav>
        </section>
      </Page>,
    );
  });

  return app;
}
