/**
 * The workflows page: every workflow grouped by trigger in run order, with its enabled state,
 * version, last outcome and recent run counts, and the enable/disable toggles.
 *
 * @module
 */

import { Hono } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { Outcome } from "../../engine/model.ts";
import { WorkflowValidationError } from "../../engine/validate.ts";
import { enableWorkflow } from "../../services/enable_workflow.ts";
import { appendAudit } from "../../store/audit.ts";
import { ConflictError } from "../../store/errors.ts";
import { listRuns } from "../../store/runs.ts";
import type { StoredWorkflow } from "../../store/types.ts";
import { getWorkflow, listWorkflows, setWorkflowEnabled } from "../../store/workflows.ts";
import { TRIGGERS } from "../../triggers/catalogue.ts";
import { CONSOLE_ACTOR, type ConsoleContext, type ConsoleEnv } from "./context.ts";
import {
  Badge,
  CsrfField,
  ErrorPage,
  formatTime,
  Page,
  Time,
  workflowNotFound,
} from "./layout.tsx";
import { formField } from "./session.tsx";

/** How many of a workflow's latest runs the run counts cover. */
export const RUN_STATS_WINDOW = 100;

const OUTCOME_ORDER: Outcome[] = ["success", "blocked", "failure", "pending-approval"];

interface WorkflowStats {
  last?: { id: string; outcome: Outcome; at: string };
  counts: Map<Outcome, number>;
  /** More runs exist than the window counts. */
  more: boolean;
}

async function workflowStats(
  ctx: Pick<ConsoleContext, "kv">,
  id: string,
): Promise<WorkflowStats> {
  const page = await listRuns(ctx.kv, { workflowId: id, limit: RUN_STATS_WINDOW });
  const counts = new Map<Outcome, number>();
  for (const run of page.items) counts.set(run.outcome, (counts.get(run.outcome) ?? 0) + 1);
  const latest = page.items[0];
  return {
    ...(latest ? { last: { id: latest.id, outcome: latest.outcome, at: latest.started_at } } : {}),
    counts,
    more: page.cursor !== undefined,
  };
}

/**
 * True when the workflow runs now: it has a trigger and is enabled, or disabled with a
 * `disabled_until` that passed.
 */
export function isEnabledNow(stored: StoredWorkflow, now: number): boolean {
  if (stored.workflow.trigger === null) return false;
  if (stored.workflow.enabled) return true;
  return stored.disabled_until !== undefined && Date.parse(stored.disabled_until) <= now;
}

/**
 * The enable or disable button of a workflow; `back` is where to return (list or workflow page).
 * A workflow without a trigger gets a trigger choice: it is enabled with the trigger chosen.
 */
export function ToggleForm(
  props: { stored: StoredWorkflow; enabled: boolean; csrf: string; back: "list" | "workflow" },
): JSX.Element {
  const action = props.enabled ? "disable" : "enable";
  return (
    <form class="inline" method="post" action={`/workflows/${props.stored.id}/${action}`}>
      <CsrfField token={props.csrf} />
      <input type="hidden" name="back" value={props.back} />
      {!props.enabled && props.stored.workflow.trigger === null && (
        <select
          name="trigger"
          required
          aria-label={`Trigger for ${props.stored.name} (choose a trigger to enable it)`}
        >
          <option value="">choose a trigger…</option>
          {TRIGGERS.map((trigger) => (
            <option value={trigger.descriptor.id}>{trigger.descriptor.id}</option>
          ))}
        </select>
      )}
      <button
        type="submit"
        class={props.enabled ? "danger" : "primary"}
        aria-label={`${props.enabled ? "Disable" : "Enable"} ${props.stored.name}`}
      >
        {props.enabled ? "Disable" : "Enable"}
      </button>
    </form>
  );
}

function WorkflowRow(
  props: { stored: StoredWorkflow; stats: WorkflowStats; csrf: string; now: number },
): JSX.Element {
  const { stored, stats } = props;
  const enabled = isEnabledNow(stored, props.now);
  return (
    <tr data-workflow={stored.name}>
      <td data-label="Order">{stored.workflow.order}</td>
      <td data-label="Workflow">
        <a href={`/workflows/${stored.id}`}>{stored.name}</a>
        <div class="muted small">{stored.workflow.description}</div>
      </td>
      <td data-label="State">
        <Badge kind={enabled ? "enabled" : "disabled"} />
        {!enabled && stored.disabled_until && (
          <div class="muted small">{`until ${formatTime(stored.disabled_until)}`}</div>
        )}
      </td>
      <td data-label="Version">{`v${stored.version}`}</td>
      <td data-label="Last run">
        {stats.last
          ? (
            <a href={`/runs/${stats.last.id}`}>
              <Badge kind={stats.last.outcome} />
              <span class="muted small">
                {" "}
                <Time iso={stats.last.at} />
              </span>
            </a>
          )
          : <span class="muted">no runs</span>}
      </td>
      <td class="small" data-label="Runs">
        {OUTCOME_ORDER.filter((outcome) => stats.counts.has(outcome)).map((outcome) => (
          <div class="nowrap">
            <a href={`/runs?workflow=${stored.id}&outcome=${outcome}`}>
              {`${stats.counts.get(outcome)}${stats.more ? "+" : ""} ${outcome}`}
            </a>
          </div>
        ))}
      </td>
      <td data-label="Toggle">
        <ToggleForm stored={stored} enabled={enabled} csrf={props.csrf} back="list" />
      </td>
    </tr>
  );
}

/** The workflows list and toggle routes. */
export function workflowsRoutes(ctx: Pick<ConsoleContext, "kv" | "now">): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();

  app.get("/workflows", async (c) => {
    const csrf = c.get("session").csrf;
    const workflows = await listWorkflows(ctx.kv);
    const stats = await Promise.all(workflows.map((stored) => workflowStats(ctx, stored.id)));
    const byTrigger = new Map<string | null, number[]>();
    workflows.forEach((stored, i) => {
      const list = byTrigger.get(stored.workflow.trigger) ?? [];
      list.push(i);
      byTrigger.set(stored.workflow.trigger, list);
    });
    const now = ctx.now();
    return c.html(
      <Page title="Workflows" section="workflows" csrf={csrf}>
        <div class="row">
          <h1>Workflows</h1>
          <a class="button" href="/import">Import a workflow</a>
        </div>
        {workflows.length === 0 && (
          <p class="card">
            No workflows yet: <a href="/import">import one</a>, or add them with{" "}
            <code>POST /api/workflows</code> or <code>FLOWGATE_WORKFLOWS_DIR</code>.
          </p>
        )}
        {[...byTrigger].map(([trigger, indexes]) => (
          <section class="card" data-trigger={trigger ?? ""}>
            {trigger === null ? <h2>No trigger yet (choose a trigger to enable)</h2> : (
              <h2>
                {"Trigger "}
                <code>{trigger}</code>
              </h2>
            )}
            <div class="scroll">
              <table class="cards">
                <thead>
                  <tr>
                    <th>Order</th>
                    <th>Workflow</th>
                    <th>State</th>
                    <th>Version</th>
                    <th>Last run</th>
                    <th>{`Runs (last ${RUN_STATS_WINDOW})`}</th>
                    <th>Toggle</th>
                  </tr>
                </thead>
                <tbody>
                  {indexes.map((i) => (
                    <WorkflowRow stored={workflows[i]!} stats={stats[i]!} csrf={csrf} now={now} />
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        ))}
      </Page>,
    );
  });

  for (const action of ["enable", "disable"] as const) {
    app.post(`/workflows/:id/${action}`, async (c) => {
      const stored = await getWorkflow(ctx.kv, c.req.param("id"));
      if (stored === null) return workflowNotFound(c, c.req.param("id"));
      let next: StoredWorkflow;
      try {
        const trigger = action === "enable" ? await formField(c, "trigger") : undefined;
        next = action === "enable"
          ? await enableWorkflow(ctx.kv, stored, {
            actor: CONSOLE_ACTOR,
            ...(trigger ? { trigger } : {}),
          })
          : await setWorkflowEnabled(ctx.kv, stored.id, false, { actor: CONSOLE_ACTOR });
      } catch (error) {
        const refused = error instanceof ConflictError || error instanceof SyntaxError ||
          error instanceof WorkflowValidationError;
        if (!refused) throw error;
        const status = error instanceof ConflictError ? 409 : 400;
        return c.html(<ErrorPage status={status} message={error.message} />, status);
      }
      const attached = stored.workflow.trigger === null ? { trigger: next.workflow.trigger } : {};
      await appendAudit(ctx.kv, {
        actor: CONSOLE_ACTOR,
        action: `workflow.${action}`,
        target: stored.id,
        details: { name: stored.name, version: next.version, ...attached },
      });
      const back = await formField(c, "back");
      return c.redirect(back === "workflow" ? `/workflows/${stored.id}` : "/workflows", 303);
    });
  }

  return app;
}
