/**
 * GitOps: the YAML workflows of `FLOWGATE_WORKFLOWS_DIR`, loaded at start and kept in sync with
 * `Deno.watchFs`. Such workflows are stored with `managed_by: "dir"`; a file's removal deletes its
 * workflow, and a name already used by an API-managed workflow is reported, never overwritten.
 *
 * @module
 */

import { log } from "../engine/log.ts";
import type { Workflow } from "../engine/model.ts";
import { validateWorkflow } from "../engine/validate.ts";
import { parseWorkflowSource } from "../engine/workflow_source.ts";
import { MODULE_CATALOG } from "../modules/registry.ts";
import { appendAudit } from "../store/audit.ts";
import {
  createWorkflow,
  deleteWorkflow,
  getWorkflow,
  listWorkflows,
  replaceWorkflow,
} from "../store/workflows.ts";

/** The actor dir syncs are recorded under. */
export const DIR_ACTOR = "dir";
/** Quiet time after the last file event before a re-sync (editors write in bursts). */
export const WATCH_DEBOUNCE_MS = 200;

/** What one sync did. */
export interface DirSyncReport {
  created: string[];
  updated: string[];
  deleted: string[];
  unchanged: string[];
  /** One line per file that could not be loaded. */
  errors: string[];
}

/** Loads every `*.yaml` / `*.yml` of `dir` into the store and removes workflows whose file is gone. */
export async function syncWorkflowsDir(kv: Deno.Kv, dir: string): Promise<DirSyncReport> {
  const report: DirSyncReport = {
    created: [],
    updated: [],
    deleted: [],
    unchanged: [],
    errors: [],
  };
  const seen = new Set<string>();
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && /\.ya?ml$/i.test(entry.name)) files.push(entry.name);
  }
  files.sort();
  for (const file of files) {
    let workflow: Workflow;
    try {
      const text = await Deno.readTextFile(`${dir}/${file}`);
      workflow = parseWorkflowSource(text, { filename: file, catalog: MODULE_CATALOG }).workflow;
      const { errors } = validateWorkflow(workflow, MODULE_CATALOG);
      if (errors.length > 0) {
        throw new SyntaxError(errors.map((problem) => problem.message).join("; "));
      }
    } catch (error) {
      report.errors.push(`${file}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    if (seen.has(workflow.name)) {
      report.errors.push(`${file}: workflow name "${workflow.name}" is used by another file`);
      continue;
    }
    seen.add(workflow.name);
    try {
      await upsert(kv, workflow, report);
    } catch (error) {
      report.errors.push(`${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const stored of await listWorkflows(kv, {})) {
    if (stored.managed_by !== "dir" || seen.has(stored.name)) continue;
    await deleteWorkflow(kv, stored.id, { actor: DIR_ACTOR });
    await appendAudit(kv, {
      actor: DIR_ACTOR,
      action: "workflow.delete",
      target: stored.id,
      details: { name: stored.name },
    });
    report.deleted.push(stored.name);
  }
  for (const line of report.errors) log.warn("Workflow file not loaded", { problem: line });
  return report;
}

async function upsert(kv: Deno.Kv, workflow: Workflow, report: DirSyncReport): Promise<void> {
  const existing = await getWorkflow(kv, workflow.name);
  if (existing === null) {
    const stored = await createWorkflow(kv, workflow, {
      actor: DIR_ACTOR,
      sourceFormat: "yaml",
      managedBy: "dir",
    });
    await appendAudit(kv, {
      actor: DIR_ACTOR,
      action: "workflow.create",
      target: stored.id,
      details: { name: stored.name },
    });
    report.created.push(workflow.name);
    return;
  }
  if (existing.managed_by !== "dir") {
    throw new Error(
      `workflow "${workflow.name}" exists and is managed through the API; rename one of them`,
    );
  }
  if (JSON.stringify(existing.workflow) === JSON.stringify(workflow)) {
    report.unchanged.push(workflow.name);
    return;
  }
  const stored = await replaceWorkflow(kv, existing.id, workflow, {
    actor: DIR_ACTOR,
    sourceFormat: "yaml",
    managedBy: "dir",
  });
  await appendAudit(kv, {
    actor: DIR_ACTOR,
    action: "workflow.replace",
    target: stored.id,
    details: { name: stored.name, version: stored.version },
  });
  report.updated.push(workflow.name);
}

/**
 * Re-syncs `dir` after each burst of file changes until `signal` aborts. Resolves when the
 * watcher stops.
 */
export async function watchWorkflowsDir(
  kv: Deno.Kv,
  dir: string,
  options: { signal?: AbortSignal; onSync?: (report: DirSyncReport) => void } = {},
): Promise<void> {
  const watcher = Deno.watchFs(dir, { recursive: false });
  options.signal?.addEventListener("abort", () => watcher.close(), { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = Promise.resolve();
  for await (const event of watcher) {
    if (!event.paths.some((path) => /\.ya?ml$/i.test(path))) continue;
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(async () => {
        try {
          const report = await syncWorkflowsDir(kv, dir);
          log.info("Workflows directory synced", {
            created: report.created.length,
            updated: report.updated.length,
            deleted: report.deleted.length,
            errors: report.errors.length,
          });
          options.onSync?.(report);
        } catch (error) {
          log.error("Workflows directory sync failed", { error: String(error) });
        }
      });
    }, WATCH_DEBOUNCE_MS);
  }
  clearTimeout(timer);
  await running;
}
