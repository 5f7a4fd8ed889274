/**
 * One run's page: the verdict, the path taken drawn on the workflow graph, each node's decision,
 * result, errors and timing, the deciding node of a block, the queue retries of failed actions
 * (attempts), the input (folded), and a replay button (dry: the console never performs actions on
 * a replay).
 *
 * @module
 */

// Rendered once on the server: list keys do nothing here, and Hono would print them as attributes.
// deno-lint-ignore-file jsx-key

import { Hono } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { TraceEntry, Workflow } from "../../engine/model.ts";
import { MODULE_CATALOG } from "../../modules/registry.ts";
import { ConflictError, NotFoundError } from "../../store/errors.ts";
import { getRun, getRunInput } from "../../store/runs.ts";
import type { RunAttempt, RunRecord } from "../../store/types.ts";
import { getWorkflow, getWorkflowVersion } from "../../store/workflows.ts";
import { replayWithDiff } from "../../services/replay.ts";
import { CONSOLE_ACTOR, type ConsoleContext, type ConsoleEnv } from "./context.ts";
import { WorkflowGraph } from "./graph_svg.tsx";
import { JsonView } from "./json_view.tsx";
import { Badge, CsrfField, ErrorPage, formatTime, Page, Time } from "./layout.tsx";
import { formField } from "./session.tsx";

/** The workflow a run used: its saved version, else the current one (labelled as such). */
async function runWorkflowGraph(
  ctx: ConsoleContext,
  run: RunRecord,
): Promise<{ workflow: Workflow; exact: boolean } | null> {
  const version = await getWorkflowVersion(ctx.kv, run.workflow_id, run.workflow_version);
  if (version) return { workflow: version.workflow, exact: true };
  const current = await getWorkflow(ctx.kv, run.workflow_id);
  return current ? { workflow: current.workflow, exact: false } : null;
}

function TraceRow(props: { entry: TraceEntry; deciding: boolean }): JSX.Element {
  const { entry } = props;
  return (
    <tr id={`trace-${entry.seq}`} class={props.deciding ? "deciding" : undefined}>
      <td data-label="#">{entry.seq}</td>
      <td data-label="Node">
        <code>{entry.node_id}</code>
        {props.deciding && (
          <>
            {" "}
            <Badge kind="block">deciding node</Badge>
          </>
        )}
        <div class="muted small">{`${entry.kind} · ${entry.module}`}</div>
      </td>
      <td data-label="Status">
        <Badge
          kind={entry.status === "success"
            ? "success"
            : entry.status === "failure"
            ? "failure"
            : "none"}
        >
          {entry.status}
        </Badge>
      </td>
      <td data-label="Decision">
        {entry.branch && <div>{`branch: ${entry.branch}`}</div>}
        {entry.result !== undefined && <div>{`result: ${entry.result}`}</div>}
      </td>
      <td class="small" data-label="Details">
        {entry.errors.map((error) => <div class="error">{error}</div>)}
        {entry.note && <div class="muted">{entry.note}</div>}
        {(entry.actions ?? []).map((action) => (
          <div>{`${action.dry ? "would: " : "did: "}${action.summary}`}</div>
        ))}
        {entry.observed && Object.keys(entry.observed).length > 0 && (
          <details>
            <summary>observed</summary>
            <JsonView value={entry.observed} />
          </details>
        )}
      </td>
      <td class="nowrap" data-label="Time">{`${entry.duration_ms.toFixed(2)} ms`}</td>
    </tr>
  );
}

function Verdict(props: { run: RunRecord }): JSX.Element {
  const { run } = props;
  const blocking = run.outcome === "blocked" || run.outcome === "failure";
  return (
    <div class={`notice ${blocking ? "block" : "allow"}`} data-outcome={run.outcome}>
      <strong>
        {run.outcome === "success"
          ? "Allowed: the workflow ran to the end"
          : run.outcome === "retrying"
          ? "Allowed: the workflow ran to the end; a failed action is being retried"
          : run.outcome === "blocked"
          ? "Blocked"
          : run.outcome === "failure"
          ? "Failed"
          : "Waiting for approval"}
      </strong>
      {run.deciding_node_id && (
        <span>
          {" by node "}
          <code>{run.deciding_node_id}</code>
        </span>
      )}
      {run.errors.map((error) => <div class="error">{error}</div>)}
      {run.outcome === "pending-approval" && (
        <div>
          <a href="/approvals">Decide on the approvals page</a>
        </div>
      )}
    </div>
  );
}

/** The attempts of the run's failed actions: the run itself (1), then each queue retry. */
function Attempts(props: { attempts: RunAttempt[] }): JSX.Element {
  return (
    <section class="card" id="attempts">
      <h2>Retries of failed actions</h2>
      <div class="scroll">
        <table class="cards">
          <thead>
            <tr>
              <th>Attempt</th>
              <th>Node</th>
              <th>At (UTC)</th>
              <th>Result</th>
              <th>Next try (UTC)</th>
            </tr>
          </thead>
          <tbody>
            {props.attempts.map((attempt) => (
              <tr data-attempt={`${attempt.node_id}#${attempt.attempt}`}>
                <td data-label="Attempt">
                  {attempt.attempt === 1 ? "1 (the run)" : String(attempt.attempt)}
                </td>
                <td data-label="Node">
                  <code>{attempt.node_id}</code>
                </td>
                <td data-label="At">
                  <Time iso={attempt.at} />
                </td>
                <td data-label="Result">
                  {attempt.ok
                    ? <Badge kind="success">ok</Badge>
                    : <Badge kind="failure">failed</Badge>}
                  {attempt.error && <div class="error small">{attempt.error}</div>}
                </td>
                <td data-label="Next try">
                  {attempt.next_try_at
                    ? <Time iso={attempt.next_try_at} />
                    : <span class="muted">{attempt.ok ? "—" : "none: gave up"}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function ReplayForm(props: { run: RunRecord; csrf: string }): JSX.Element {
  return (
    <form method="post" action={`/runs/${props.run.id}/replay`} class="row">
      <CsrfField token={props.csrf} />
      <label>
        <input type="radio" name="mode" value="original" checked /> version run
      </label>
      <label>
        <input type="radio" name="mode" value="current" /> current version
      </label>
      <button type="submit" class="primary">Replay (dry)</button>
    </form>
  );
}

/**
 * The run page, its raw input and its replay route. A replay is the API's (`replayWithDiff`, dry):
 * within the per-run replay budget, audited and counted in the metrics.
 */
export function runRoutes(ctx: ConsoleContext): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();

  function notFound(id: string): JSX.Element {
    return <ErrorPage status={404} message={`Run "${id}" not found (or past its retention)`} />;
  }

  app.get("/runs/:id", async (c) => {
    const id = c.req.param("id");
    const run = await getRun(ctx.kv, id);
    if (run === null) return c.html(notFound(id), 404);
    const [graph, input] = await Promise.all([runWorkflowGraph(ctx, run), getRunInput(ctx.kv, id)]);
    const csrf = c.get("session").csrf;
    return c.html(
      <Page title={`Run ${run.id}`} section="runs" csrf={csrf}>
        <h1>
          {`Run of ${run.workflow_name} `}
          <Badge kind={run.outcome} />
          {run.dry_run && (
            <>
              {" "}
              <Badge kind="dry">dry run</Badge>
            </>
          )}
        </h1>
        <section class="card stack">
          <Verdict run={run} />
          <dl class="facts">
            <dt>Run</dt>
            <dd>
              <code>{run.id}</code>
            </dd>
            <dt>Workflow</dt>
            <dd>
              <a href={`/workflows/${run.workflow_id}`}>{run.workflow_name}</a>
              {` v${run.workflow_version}`}
            </dd>
            <dt>Trigger</dt>
            <dd>
              <code>{run.trigger}</code>
            </dd>
            {run.event && (
              <>
                <dt>Event</dt>
                <dd>
                  <div class="event-info">{run.event.info ?? ""}</div>
                  <div class="muted small">
                    {[run.event.id && `#${run.event.id}`, run.event.uuid].filter(Boolean).join(" ")}
                  </div>
                </dd>
              </>
            )}
            <dt>Started</dt>
            <dd>{`${formatTime(run.started_at)} UTC, ${run.duration_ms.toFixed(2)} ms`}</dd>
            <dt>Started by</dt>
            <dd>{`${run.actor.kind}${run.actor.id ? ` (${run.actor.id})` : ""}`}</dd>
            {run.replay_of && (
              <>
                <dt>Replay of</dt>
                <dd>
                  <a href={`/runs/${run.replay_of}`}>{run.replay_of}</a>
                  {run.mode && ` (${run.mode} version)`}
                </dd>
              </>
            )}
            {run.timed_out && (
              <>
                <dt>Deadline</dt>
                <dd class="error">missed the verdict deadline</dd>
              </>
            )}
          </dl>
          <ReplayForm run={run} csrf={csrf} />
        </section>
        <section class="card">
          <h2>Path taken</h2>
          {graph
            ? (
              <>
                {!graph.exact && (
                  <p class="muted">
                    {`Version ${run.workflow_version} is no longer stored: drawn on the current version.`}
                  </p>
                )}
                <WorkflowGraph
                  workflow={graph.workflow}
                  catalog={MODULE_CATALOG}
                  trace={{
                    entries: run.trace,
                    ...(run.deciding_node_id ? { decidingNodeId: run.deciding_node_id } : {}),
                  }}
                />
              </>
            )
            : <p class="muted">The workflow of this run no longer exists.</p>}
        </section>
        <section class="card">
          <h2>Nodes</h2>
          <div class="scroll">
            <table class="cards">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Node</th>
                  <th>Status</th>
                  <th>Decision</th>
                  <th>Details</th>
                  <th>Time</th>
                </tr>
              </thead>
              <tbody>
                {run.trace.map((entry) => (
                  <TraceRow entry={entry} deciding={entry.node_id === run.deciding_node_id} />
                ))}
              </tbody>
            </table>
          </div>
        </section>
        {run.attempts && run.attempts.length > 0 && <Attempts attempts={run.attempts} />}
        <section class="card" id="input">
          <h2>Input</h2>
          {input === null ? <p class="muted">The input is no longer stored.</p> : (
            <>
              <p class="small">
                <a href={`/runs/${run.id}/input.json`}>Raw JSON</a>
              </p>
              <JsonView value={input} />
            </>
          )}
        </section>
      </Page>,
    );
  });

  app.get("/runs/:id/input.json", async (c) => {
    const id = c.req.param("id");
    const input = await getRunInput(ctx.kv, id);
    if (input === null) return c.html(notFound(id), 404);
    return c.json(input, 200, { "Content-Disposition": `attachment; filename="run-${id}.json"` });
  });

  app.post("/runs/:id/replay", async (c) => {
    const id = c.req.param("id");
    const mode = (await formField(c, "mode")) === "current" ? "current" : "original";
    let run: RunRecord;
    try {
      ({ run } = await replayWithDiff(ctx, id, {
        mode,
        dry: true,
        actor: { kind: "replay", id: CONSOLE_ACTOR },
      }));
    } catch (error) {
      if (error instanceof NotFoundError) {
        return c.html(<ErrorPage status={404} message={error.message} />, 404);
      }
      if (error instanceof ConflictError) {
        return c.html(<ErrorPage status={409} message={error.message} />, 409);
      }
      throw error;
    }
    return c.redirect(`/runs/${run.id}`, 303);
  });

  return app;
}
