/**
 * One workflow's page: its graph, settings and toggle, its YAML, its versions with a line diff
 * between any two, and the dry-run form (whose result is the dry run's run page).
 *
 * @module
 */

// Rendered once on the server: list keys do nothing here, and Hono would print them as attributes.
// deno-lint-ignore-file jsx-key

import { type Context, Hono } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { JsonObject } from "../../engine/model.ts";
import { stringifyWorkflowYaml } from "../../engine/yaml_codec.ts";
import { MODULE_CATALOG } from "../../modules/registry.ts";
import type { StoredWorkflow, WorkflowVersion } from "../../store/types.ts";
import { getWorkflow, listWorkflowVersions } from "../../store/workflows.ts";
import { NormalizationError } from "../../triggers/normalization_error.ts";
import { dryRunWorkflow } from "../../services/dry_run.ts";
import { CONSOLE_ACTOR, type ConsoleContext, type ConsoleEnv } from "./context.ts";
import { WorkflowGraph } from "./graph_svg.tsx";
import {
  Badge,
  CsrfField,
  ErrorPage,
  formatTime,
  Page,
  Time,
  workflowNotFound,
} from "./layout.tsx";
import { diffLines } from "./line_diff.ts";
import { isEnabledNow, ToggleForm } from "./workflows.tsx";

/** Largest event JSON the dry-run form accepts, in bytes (the request body limit still applies). */
export const MAX_DRY_RUN_BYTES = 16_777_216;

function VersionDiff(
  props: { versions: WorkflowVersion[]; from: number; to: number },
): JSX.Element {
  const before = props.versions.find((version) => version.version === props.from);
  const after = props.versions.find((version) => version.version === props.to);
  if (!before || !after) {
    return <p class="error">{`No version ${!before ? props.from : props.to} to compare`}</p>;
  }
  const lines = diffLines(
    stringifyWorkflowYaml(before.workflow, MODULE_CATALOG),
    stringifyWorkflowYaml(after.workflow, MODULE_CATALOG),
  );
  const changed = lines.filter((line) => line.op !== "same").length;
  return (
    <>
      <p class="muted">
        {`v${props.from} → v${props.to}: ${changed} line${changed === 1 ? "" : "s"} changed`}
      </p>
      <div class="diff" data-diff={`${props.from}-${props.to}`}>
        {lines.map((line) => <div class={line.op}>{line.text}</div>)}
      </div>
    </>
  );
}

function VersionsSection(
  props: { stored: StoredWorkflow; versions: WorkflowVersion[]; from?: number; to?: number },
): JSX.Element {
  const { versions } = props;
  const latest = versions.at(-1)?.version ?? props.stored.version;
  const to = props.to ?? latest;
  const from = props.from ?? Math.max(1, to - 1);
  const options = (selected: number) =>
    versions.map((version) => (
      <option value={String(version.version)} selected={version.version === selected}>
        {`v${version.version}`}
      </option>
    ));
  return (
    <section class="card" id="versions">
      <h2>Versions</h2>
      <div class="scroll">
        <table class="cards">
          <thead>
            <tr>
              <th>Version</th>
              <th>Saved</th>
              <th>By</th>
              <th>Change</th>
            </tr>
          </thead>
          <tbody>
            {versions.toReversed().map((version) => (
              <tr>
                <td data-label="Version">{`v${version.version}`}</td>
                <td data-label="Saved">
                  <Time iso={version.saved_at} />
                </td>
                <td data-label="By">{version.saved_by}</td>
                <td data-label="Change">{version.change}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {versions.length > 1 && (
        <>
          <form method="get" action={`/workflows/${props.stored.id}`} class="filters">
            <label>
              From
              <select name="from">{options(from)}</select>
            </label>
            <label>
              To
              <select name="to">{options(to)}</select>
            </label>
            <button type="submit">Compare</button>
          </form>
          <VersionDiff versions={versions} from={from} to={to} />
        </>
      )}
    </section>
  );
}

function DryRunForm(props: { stored: StoredWorkflow; csrf: string }): JSX.Element {
  return (
    <section class="card" id="dry-run">
      <h2>Dry run</h2>
      <p class="muted small">
        Runs this workflow on an event without performing any action; the result opens as a run.
      </p>
      <form
        method="post"
        action={`/workflows/${props.stored.id}/dry-run`}
        enctype="multipart/form-data"
        class="stack"
      >
        <CsrfField token={props.csrf} />
        <label for="event">Event JSON (MISP format)</label>
        <textarea id="event" name="event" spellcheck={false} placeholder='{"Event": {…}}' />
        <div class="row">
          <label for="event_file">or upload a file</label>
          <input id="event_file" name="event_file" type="file" accept=".json,application/json" />
        </div>
        <button class="primary" type="submit">Dry-run</button>
      </form>
    </section>
  );
}

function versionParam(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** The event of the dry-run form (pasted or uploaded), or what is wrong with it. */
async function readDryRunInput(c: Context<ConsoleEnv>): Promise<JsonObject | string> {
  const body = await c.req.parseBody();
  const file = body.event_file;
  let text = typeof body.event === "string" ? body.event : "";
  if (file instanceof File && file.size > 0) {
    if (file.size > MAX_DRY_RUN_BYTES) {
      return `The uploaded file is ${file.size} bytes, over the ${MAX_DRY_RUN_BYTES}-byte limit`;
    }
    text = await file.text();
  }
  if (text.trim() === "") return "Paste an event's JSON or upload a file";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `The event is not valid JSON: ${(error as Error).message}`;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return 'The event must be a JSON object, e.g. {"Event": {…}}';
  }
  return parsed as JsonObject;
}

/** The workflow page and its dry-run route. */
export function workflowRoutes(ctx: ConsoleContext): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();

  app.get("/workflows/:id", async (c) => {
    const csrf = c.get("session").csrf;
    const stored = await getWorkflow(ctx.kv, c.req.param("id"));
    if (stored === null) return workflowNotFound(c, c.req.param("id"));
    const versions = await listWorkflowVersions(ctx.kv, stored.id);
    const { workflow } = stored;
    const enabled = isEnabledNow(stored, ctx.now());
    const from = versionParam(c.req.query("from"));
    const to = versionParam(c.req.query("to"));
    return c.html(
      <Page title={stored.name} section="workflows" csrf={csrf}>
        <h1>{stored.name}</h1>
        <section class="card stack">
          {workflow.description && <p>{workflow.description}</p>}
          <dl class="facts">
            <dt>Trigger</dt>
            <dd>
              {workflow.trigger === null
                ? "none yet: choose a trigger to enable it"
                : <code>{workflow.trigger}</code>}
            </dd>
            <dt>State</dt>
            <dd class="row">
              <Badge kind={enabled ? "enabled" : "disabled"} />
              <ToggleForm stored={stored} enabled={enabled} csrf={csrf} back="workflow" />
            </dd>
            <dt>Order</dt>
            <dd>{workflow.order}</dd>
            <dt>On timeout</dt>
            <dd>{workflow.on_timeout}</dd>
            <dt>Version</dt>
            <dd>
              {`v${stored.version}, saved ${formatTime(stored.updated_at)} by ${stored.updated_by}`}
            </dd>
            <dt>Source</dt>
            <dd>
              {stored.source_format}
              {stored.managed_by === "dir" && " (managed by FLOWGATE_WORKFLOWS_DIR)"}
            </dd>
            <dt>Runs</dt>
            <dd>
              <a href={`/runs?workflow=${stored.id}`}>Runs of this workflow</a>
            </dd>
          </dl>
        </section>
        <section class="card">
          <h2>Graph</h2>
          <WorkflowGraph workflow={workflow} catalog={MODULE_CATALOG} />
        </section>
        <DryRunForm stored={stored} csrf={csrf} />
        <section class="card" id="yaml">
          <h2 class="row">
            YAML
            {stored.managed_by !== "dir" && (
              <a class="button small" href={`/workflows/${stored.id}/edit`}>Edit</a>
            )}
          </h2>
          <pre>{stringifyWorkflowYaml(workflow, MODULE_CATALOG)}</pre>
        </section>
        <VersionsSection
          stored={stored}
          versions={versions}
          {...(from !== undefined ? { from } : {})}
          {...(to !== undefined ? { to } : {})}
        />
      </Page>,
    );
  });

  app.post("/workflows/:id/dry-run", async (c) => {
    const stored = await getWorkflow(ctx.kv, c.req.param("id"));
    if (stored === null) return workflowNotFound(c, c.req.param("id"));
    if (stored.workflow.trigger === null) {
      const message =
        `Workflow "${stored.name}" has no trigger yet: choose a trigger to dry-run it`;
      return c.html(<ErrorPage status={409} message={message} />, 409);
    }
    const input = await readDryRunInput(c);
    if (typeof input === "string") {
      return c.html(<ErrorPage status={400} message={input} />, 400);
    }
    let run;
    try {
      ({ run } = await dryRunWorkflow(ctx, stored, { input, actor: CONSOLE_ACTOR }));
    } catch (error) {
      if (error instanceof NormalizationError) {
        return c.html(
          <ErrorPage status={400} message={`Cannot dry-run this event: ${error.message}`} />,
          400,
        );
      }
      throw error;
    }
    return c.redirect(`/runs/${run.id}`, 303);
  });

  return app;
}
