/**
 * Import and edit workflows in the console: paste or upload YAML, MISP workflow JSON or a
 * blueprint (`/import`), or edit a workflow's YAML (`/workflows/:id/edit`). The source goes
 * through the same reader and validation as the admin API (`parseWorkflowSource`,
 * `validateWorkflow`); when something is wrong the form comes back with the text as it was sent,
 * every problem listed with its line, and the numbered source with those lines marked.
 *
 * @module
 */

// Rendered once on the server: list keys do nothing here, and Hono would print them as attributes.
// deno-lint-ignore-file jsx-key

import { type Context, Hono } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { MAX_WORKFLOW_BYTES } from "../../engine/limits.ts";
import type { Workflow } from "../../engine/model.ts";
import { validateWorkflow } from "../../engine/validate.ts";
import { WorkflowSyntaxError } from "../../engine/workflow_syntax_error.ts";
import { parseWorkflowSource, type WorkflowFormat } from "../../engine/workflow_source.ts";
import { yamlLocator } from "../../engine/yaml_locate.ts";
import { stringifyWorkflowYaml } from "../../engine/yaml_codec.ts";
import { MODULE_CATALOG } from "../../modules/registry.ts";
import { TRIGGERS } from "../../triggers/catalogue.ts";
import { appendAudit } from "../../store/audit.ts";
import { ConflictError } from "../../store/errors.ts";
import type { StoredWorkflow } from "../../store/types.ts";
import { createWorkflow, getWorkflow, replaceWorkflow } from "../../store/workflows.ts";
import { CONSOLE_ACTOR, type ConsoleContext, type ConsoleEnv } from "./context.ts";
import { CsrfField, ErrorPage, Page, workflowNotFound } from "./layout.tsx";

/** One problem of a source, at its line when known. */
export interface SourceProblem {
  level: "error" | "warning";
  message: string;
  line?: number;
  column?: number;
}

/** What reading and validating a source gave: the workflow when it could be read, the problems. */
export interface SourceCheck {
  workflow?: Workflow;
  format?: WorkflowFormat;
  problems: SourceProblem[];
}

/** Options of `checkWorkflowSource`. */
export interface CheckSourceOptions {
  /** Uploaded file name: `.yaml`/`.json` decide the syntax. */
  filename?: string;
  /** Trigger for a blueprint that names none. */
  trigger?: string;
}

/**
 * Reads and validates a workflow source as the admin API does, and places every problem at its
 * line: syntax errors carry theirs, validation problems of a YAML source are located by node and
 * field (`yamlLocator`, the text parsed once however many problems).
 */
export function checkWorkflowSource(text: string, options: CheckSourceOptions = {}): SourceCheck {
  let parsed;
  try {
    parsed = parseWorkflowSource(text, {
      catalog: MODULE_CATALOG,
      ...(options.filename ? { filename: options.filename } : {}),
      ...(options.trigger ? { trigger: options.trigger } : {}),
    });
  } catch (error) {
    if (error instanceof WorkflowSyntaxError) {
      return {
        problems: [{
          level: "error",
          message: error.message,
          ...(error.line !== undefined ? { line: error.line } : {}),
          ...(error.column !== undefined ? { column: error.column } : {}),
        }],
      };
    }
    if (error instanceof RangeError) {
      return { problems: [{ level: "error", message: error.message }] };
    }
    throw error;
  }
  const { errors, warnings } = validateWorkflow(parsed.workflow, MODULE_CATALOG);
  const locate = parsed.format === "yaml" ? yamlLocator(text) : undefined;
  const place =
    (level: SourceProblem["level"]) =>
    (problem: { message: string; node?: string; field?: string }): SourceProblem => {
      const at = locate?.(problem);
      return {
        level,
        message: problem.message,
        ...(at ? { line: at.line, column: at.column } : {}),
      };
    };
  return {
    workflow: parsed.workflow,
    format: parsed.format,
    problems: [...errors.map(place("error")), ...warnings.map(place("warning"))],
  };
}

/** The numbered source, problem lines marked and explained beneath, each line linkable (`#L12`). */
function NumberedSource(props: { text: string; problems: SourceProblem[] }): JSX.Element {
  const byLine = new Map<number, SourceProblem[]>();
  for (const problem of props.problems) {
    if (problem.line === undefined) continue;
    byLine.set(problem.line, [...(byLine.get(problem.line) ?? []), problem]);
  }
  return (
    <div class="source" data-source>
      {props.text.replace(/\r?\n$/, "").split(/\r?\n/).map((line, index) => {
        const number = index + 1;
        const here = byLine.get(number) ?? [];
        return (
          <div
            class={here.some((p) => p.level === "error") ? "line bad" : "line"}
            id={`L${number}`}
            data-line={String(number)}
          >
            <span class="no">{number}</span>
            <span class="text">{line === "" ? " " : line}</span>
            {here.map((problem) => <span class="why">{`↑ ${problem.message}`}</span>)}
          </div>
        );
      })}
    </div>
  );
}

function ProblemList(props: { problems: SourceProblem[] }): JSX.Element {
  const sorted = props.problems.toSorted((a, b) =>
    (a.level === b.level ? 0 : a.level === "error" ? -1 : 1) ||
    (a.line ?? Infinity) - (b.line ?? Infinity)
  );
  return (
    <ul class="problems" data-problems={String(props.problems.length)}>
      {sorted.map((problem) => (
        <li class={problem.level === "error" ? "error" : "warning"} data-line={problem.line}>
          {problem.line !== undefined
            ? (
              <a href={`#L${problem.line}`}>
                {`Line ${problem.line}${problem.column ? `, column ${problem.column}` : ""}`}
              </a>
            )
            : <span>Whole workflow</span>}
          {`: ${problem.level === "warning" ? "warning: " : ""}${problem.message}`}
        </li>
      ))}
    </ul>
  );
}

/** Props of the source form (import or edit). */
interface SourceFormProps {
  csrf: string;
  action: string;
  text: string;
  problems: SourceProblem[];
  /** Edit: the version the text was loaded from. */
  expectedVersion?: number;
  trigger?: string;
  /** Import only: upload field and trigger choice for blueprints. */
  importing: boolean;
}

function SourceForm(props: SourceFormProps): JSX.Element {
  const errors = props.problems.filter((problem) => problem.level === "error").length;
  return (
    <>
      {props.problems.length > 0 && (
        <section class="card stack" id="problems">
          <h2>
            {errors > 0
              ? `Not saved: ${errors} error${errors === 1 ? "" : "s"}`
              : "Valid, with warnings"}
          </h2>
          <ProblemList problems={props.problems} />
          {props.text !== "" && <NumberedSource text={props.text} problems={props.problems} />}
        </section>
      )}
      <form method="post" action={props.action} enctype="multipart/form-data" class="card stack">
        <CsrfField token={props.csrf} />
        {props.expectedVersion !== undefined && (
          <input type="hidden" name="expected_version" value={String(props.expectedVersion)} />
        )}
        <label for="source">
          {props.importing ? "YAML, MISP workflow JSON or blueprint JSON" : "YAML"}
        </label>
        <textarea
          id="source"
          name="source"
          class="editor"
          spellcheck={false}
          placeholder="name: my-workflow  trigger: event-publish  nodes: …"
        >
          {props.text}
        </textarea>
        {props.importing && (
          <div class="filters">
            <label>
              or upload a file
              <input
                name="source_file"
                type="file"
                accept=".yaml,.yml,.json,application/json,application/yaml"
              />
            </label>
            <label>
              Trigger (blueprints that name none)
              <select name="trigger">
                <option value="">from the blueprint</option>
                {TRIGGERS.map((trigger) => (
                  <option
                    value={trigger.descriptor.id}
                    selected={trigger.descriptor.id === props.trigger}
                  >
                    {trigger.descriptor.id}
                  </option>
                ))}
              </select>
            </label>
          </div>
        )}
        <div class="row">
          <button type="submit" name="do" value="save" class="primary">
            {props.importing ? "Import" : "Save"}
          </button>
          <button type="submit" name="do" value="check">Check only</button>
        </div>
      </form>
    </>
  );
}

/** The form's source text (pasted or uploaded), or what is wrong with the upload. */
async function readSourceForm(c: Context<ConsoleEnv>): Promise<{
  text: string;
  filename?: string;
  trigger?: string;
  expectedVersion?: number;
  save: boolean;
  refused?: string;
}> {
  const body = await c.req.parseBody();
  let text = typeof body.source === "string" ? body.source : "";
  let filename: string | undefined;
  const file = body.source_file;
  const trigger = typeof body.trigger === "string" && body.trigger !== ""
    ? body.trigger
    : undefined;
  const expected = typeof body.expected_version === "string" &&
      /^\d+$/.test(body.expected_version)
    ? Number(body.expected_version)
    : undefined;
  const save = body.do !== "check";
  const base = {
    save,
    ...(trigger ? { trigger } : {}),
    ...(expected !== undefined ? { expectedVersion: expected } : {}),
  };
  if (file instanceof File && file.size > 0) {
    if (file.size > MAX_WORKFLOW_BYTES) {
      return {
        ...base,
        text: "",
        refused: `The uploaded file is ${file.size} bytes, over the ${MAX_WORKFLOW_BYTES}-byte ` +
          "limit of workflow sources",
      };
    }
    text = await file.text();
    filename = file.name;
  }
  return { ...base, text, ...(filename ? { filename } : {}) };
}

/** The import and edit pages and their routes. */
export function workflowSourceRoutes(ctx: Pick<ConsoleContext, "kv">): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();

  function importPage(csrf: string, form: Omit<SourceFormProps, "csrf" | "action" | "importing">) {
    return (
      <Page title="Import a workflow" section="workflows" csrf={csrf}>
        <h1>Import a workflow</h1>
        <p class="muted">
          Paste or upload a workflow in Flowgate's YAML, a MISP workflow export, or a MISP
          blueprint. It is checked with the same rules as the API; a new workflow with a name
          already in use is refused.
        </p>
        <SourceForm csrf={csrf} action="/import" importing {...form} />
      </Page>
    );
  }

  function editPage(
    csrf: string,
    stored: StoredWorkflow,
    form: Omit<SourceFormProps, "csrf" | "action" | "importing">,
  ) {
    return (
      <Page title={`Edit ${stored.name}`} section="workflows" csrf={csrf}>
        <h1>{`Edit ${stored.name}`}</h1>
        <p class="muted">
          {`Editing version v${form.expectedVersion ?? stored.version}. Saving makes a new ` +
            "version; if someone saved in between, nothing is overwritten and you are told."}{" "}
          <a href={`/workflows/${stored.id}`}>Back to the workflow</a>
        </p>
        <SourceForm
          csrf={csrf}
          action={`/workflows/${stored.id}/edit`}
          importing={false}
          {...form}
        />
      </Page>
    );
  }

  app.get("/import", (c) => c.html(importPage(c.get("session").csrf, { text: "", problems: [] })));

  app.post("/import", async (c) => {
    const csrf = c.get("session").csrf;
    const form = await readSourceForm(c);
    const keep = { text: form.text, ...(form.trigger ? { trigger: form.trigger } : {}) };
    if (form.refused) {
      return c.html(
        importPage(csrf, { ...keep, problems: [{ level: "error", message: form.refused }] }),
        413,
      );
    }
    if (form.text.trim() === "") {
      return c.html(
        importPage(csrf, {
          ...keep,
          problems: [{ level: "error", message: "Paste a workflow or upload a file" }],
        }),
        400,
      );
    }
    const check = checkWorkflowSource(form.text, form);
    const failed = check.problems.some((problem) => problem.level === "error");
    if (failed || !form.save || !check.workflow || !check.format) {
      return c.html(importPage(csrf, { ...keep, problems: check.problems }), failed ? 400 : 200);
    }
    let stored: StoredWorkflow;
    try {
      stored = await createWorkflow(ctx.kv, check.workflow, {
        actor: CONSOLE_ACTOR,
        sourceFormat: check.format,
      });
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      return c.html(
        importPage(csrf, { ...keep, problems: [{ level: "error", message: error.message }] }),
        409,
      );
    }
    await appendAudit(ctx.kv, {
      actor: CONSOLE_ACTOR,
      action: "workflow.create",
      target: stored.id,
      details: {
        name: stored.name,
        trigger: check.workflow.trigger,
        format: check.format,
        version: stored.version,
      },
    });
    return c.redirect(`/workflows/${stored.id}`, 303);
  });

  app.get("/workflows/:id/edit", async (c) => {
    const stored = await getWorkflow(ctx.kv, c.req.param("id"));
    if (stored === null) return workflowNotFound(c, c.req.param("id"));
    if (stored.managed_by === "dir") return c.html(dirManaged(stored), 409);
    return c.html(
      editPage(c.get("session").csrf, stored, {
        text: stringifyWorkflowYaml(stored.workflow, MODULE_CATALOG),
        problems: [],
        expectedVersion: stored.version,
      }),
    );
  });

  app.post("/workflows/:id/edit", async (c) => {
    const csrf = c.get("session").csrf;
    const stored = await getWorkflow(ctx.kv, c.req.param("id"));
    if (stored === null) return workflowNotFound(c, c.req.param("id"));
    if (stored.managed_by === "dir") return c.html(dirManaged(stored), 409);
    const form = await readSourceForm(c);
    const keep = {
      text: form.text,
      ...(form.expectedVersion !== undefined ? { expectedVersion: form.expectedVersion } : {}),
    };
    const check = checkWorkflowSource(form.text, { filename: "workflow.yaml" });
    const failed = check.problems.some((problem) => problem.level === "error");
    if (failed || !form.save || !check.workflow) {
      return c.html(
        editPage(csrf, stored, { ...keep, problems: check.problems }),
        failed ? 400 : 200,
      );
    }
    let saved: StoredWorkflow;
    try {
      saved = await replaceWorkflow(ctx.kv, stored.id, check.workflow, {
        actor: CONSOLE_ACTOR,
        sourceFormat: "yaml",
        ...(form.expectedVersion !== undefined ? { expectedVersion: form.expectedVersion } : {}),
      });
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      return c.html(
        editPage(csrf, stored, { ...keep, problems: [{ level: "error", message: error.message }] }),
        409,
      );
    }
    await appendAudit(ctx.kv, {
      actor: CONSOLE_ACTOR,
      action: "workflow.replace",
      target: saved.id,
      details: { name: saved.name, format: "yaml", version: saved.version },
    });
    return c.redirect(`/workflows/${saved.id}`, 303);
  });

  return app;
}

function dirManaged(stored: StoredWorkflow): JSX.Element {
  return (
    <ErrorPage
      status={409}
      message={`Cannot edit workflow "${stored.name}" here: it is managed by FLOWGATE_WORKFLOWS_DIR; edit its file`}
    />
  );
}
