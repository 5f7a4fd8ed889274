/**
 * Workflow repository: create, replace, enable and disable, delete, list and version history,
 * with a unique name index, a trigger index ordered by `order`, and optimistic concurrency.
 *
 * @module
 */

import { ulid } from "ulid";
import type { Workflow } from "../engine/model.ts";
import { jsonByteLength } from "./chunks.ts";
import { estimateKeyBytes } from "./commit_plan.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import {
  KEY_WORKFLOW_VERSIONS,
  KEY_WORKFLOWS,
  KEY_WORKFLOWS_BY_NAME,
  KEY_WORKFLOWS_BY_TRIGGER,
  KEY_WORKFLOWS_REVISION,
  MAX_GET_MANY_KEYS,
  MAX_KEY_BYTES,
  MAX_WORKFLOW_VALUE_BYTES,
  MAX_WRITE_ATTEMPTS,
} from "./keys.ts";
import type { SourceFormat, StoredWorkflow, WorkflowVersion } from "./types.ts";
import { describeWorkflowChange } from "./workflow_changes.ts";

export {
  cachedEnabledWorkflows,
  isWorkflowEnabled,
  listEnabledWorkflows,
} from "./enabled_workflows.ts";
export type { CachedEnabledWorkflows, ListEnabledWorkflowsOptions } from "./enabled_workflows.ts";

/** Options of `createWorkflow`. */
export interface CreateWorkflowOptions {
  /** Who saves: `api:admin`, `slack:U123`, `dir`… */
  actor: string;
  sourceFormat: SourceFormat;
  /** Marks a workflow loaded from `FLOWGATE_WORKFLOWS_DIR`. */
  managedBy?: "dir";
  /** Clock, for tests. */
  now?: Date;
}

/** Options of `replaceWorkflow`. */
export interface ReplaceWorkflowOptions extends CreateWorkflowOptions {
  /** The version the editor started from; a different current version is a conflict. */
  expectedVersion?: number;
}

/** Options of `setWorkflowEnabled`. */
export interface SetWorkflowEnabledOptions {
  actor: string;
  /** When disabling: the time after which the workflow counts as enabled again. */
  until?: Date | string;
  /** Clock, for tests. */
  now?: Date;
}

/** Options of `listWorkflows`. */
export interface ListWorkflowsOptions {
  /** Only the workflows of this trigger. */
  trigger?: string;
}

/** The key of a workflow's primary record. */
export function workflowKey(id: string): Deno.KvKey {
  return [KEY_WORKFLOWS, id];
}

/** The key of a workflow's unique-name index entry. */
export function workflowNameKey(name: string): Deno.KvKey {
  return [KEY_WORKFLOWS_BY_NAME, name];
}

/**
 * The key of a workflow's trigger index entry, ordered by `order` then id; undefined for a
 * trigger-less draft, which is never indexed under a trigger.
 */
export function workflowTriggerKey(stored: StoredWorkflow): Deno.KvKey | undefined {
  const trigger = stored.workflow.trigger;
  if (trigger === null) return undefined;
  return [KEY_WORKFLOWS_BY_TRIGGER, trigger, stored.workflow.order, stored.id];
}

/** The key of one saved version. */
export function workflowVersionKey(id: string, version: number): Deno.KvKey {
  return [KEY_WORKFLOW_VERSIONS, id, version];
}

/** The revision counter every workflow write bumps, so caches know to reload. */
export const WORKFLOWS_REVISION_KEY: Deno.KvKey = [KEY_WORKFLOWS_REVISION];

/**
 * Saves a new workflow as version 1 and indexes it by name and trigger in one commit.
 *
 * @throws {ConflictError} when another workflow has the same name.
 * @throws {RangeError} when the workflow is too big to store.
 */
export async function createWorkflow(
  kv: Deno.Kv,
  workflow: Workflow,
  options: CreateWorkflowOptions,
): Promise<StoredWorkflow> {
  const at = (options.now ?? new Date()).toISOString();
  const stored: StoredWorkflow = {
    id: ulid(),
    name: workflow.name,
    version: 1,
    workflow,
    "source_format": options.sourceFormat,
    "created_at": at,
    "updated_at": at,
    "updated_by": options.actor,
    ...(options.managedBy ? { managed_by: options.managedBy } : {}),
  };
  const version = versionOf(stored, describeWorkflowChange(undefined, workflow));
  assertFits(stored, version);
  const op = kv.atomic()
    .check({ key: workflowNameKey(stored.name), versionstamp: null })
    .set(workflowKey(stored.id), stored)
    .set(workflowNameKey(stored.name), stored.id);
  const triggerKey = workflowTriggerKey(stored);
  if (triggerKey) op.set(triggerKey, stored.id);
  const result = await op
    .set(workflowVersionKey(stored.id, 1), version)
    .sum(WORKFLOWS_REVISION_KEY, 1n)
    .commit();
  if (!result.ok) {
    throw new ConflictError(`Cannot create workflow "${stored.name}": the name is taken`);
  }
  return stored;
}

/**
 * Saves a new version of an existing workflow. The commit checks the versionstamp read, so two
 * editors saving from the same version cannot both win: the second gets a `ConflictError`.
 *
 * @throws {NotFoundError} when no workflow has that id.
 * @throws {ConflictError} on a concurrent edit, a stale `expectedVersion` or a taken name.
 * @throws {RangeError} when the workflow is too big to store.
 */
export async function replaceWorkflow(
  kv: Deno.Kv,
  id: string,
  workflow: Workflow,
  options: ReplaceWorkflowOptions,
): Promise<StoredWorkflow> {
  const entry = await kv.get<StoredWorkflow>(workflowKey(id));
  const current = entry.value;
  if (!current) throw new NotFoundError(`Cannot save workflow "${id}": no such workflow`);
  if (options.expectedVersion !== undefined && options.expectedVersion !== current.version) {
    throw new ConflictError(
      `Cannot save workflow "${current.name}": version ${options.expectedVersion} is stale, the current version is ${current.version}`,
    );
  }
  const { disabled_until: disabledUntil, managed_by: _managedBy, ...rest } = current;
  const next: StoredWorkflow = {
    ...rest,
    name: workflow.name,
    version: current.version + 1,
    workflow,
    "source_format": options.sourceFormat,
    "updated_at": (options.now ?? new Date()).toISOString(),
    "updated_by": options.actor,
    ...(!workflow.enabled && disabledUntil ? { disabled_until: disabledUntil } : {}),
    ...(options.managedBy ? { managed_by: options.managedBy } : {}),
  };
  const change = describeWorkflowChange(current.workflow, workflow);
  const committed = await commitNextVersion(kv, entry, next, change);
  if (committed) return next;
  const latest = await kv.get<StoredWorkflow>(workflowKey(id));
  if (latest.versionstamp !== entry.versionstamp) {
    throw new ConflictError(
      `Cannot save workflow "${current.name}": it was changed concurrently (now version ${
        latest.value?.version ?? "deleted"
      })`,
    );
  }
  throw new ConflictError(
    `Cannot save workflow "${current.name}": the name "${next.name}" is taken`,
  );
}

/**
 * Enables or disables a workflow as a new version; a disable may carry `until`, after which the
 * workflow counts as enabled again. Retries on concurrent writes since a toggle only sets a flag.
 *
 * @throws {NotFoundError} when no workflow has that id.
 * @throws {ConflictError} when enabling a workflow that has no trigger (choose one first, with
 * `replaceWorkflow`), or it keeps changing concurrently.
 */
export async function setWorkflowEnabled(
  kv: Deno.Kv,
  id: string,
  enabled: boolean,
  options: SetWorkflowEnabledOptions,
): Promise<StoredWorkflow> {
  const until = options.until === undefined || enabled
    ? undefined
    : new Date(options.until).toISOString();
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const entry = await kv.get<StoredWorkflow>(workflowKey(id));
    const current = entry.value;
    if (!current) throw new NotFoundError(`Cannot change workflow "${id}": no such workflow`);
    if (enabled && current.workflow.trigger === null) {
      throw new ConflictError(
        `Cannot enable workflow "${current.name}": it has no trigger yet; choose a trigger to enable it`,
      );
    }
    if (current.workflow.enabled === enabled && current.disabled_until === until) return current;
    const { disabled_until: _previousUntil, ...rest } = current;
    const next: StoredWorkflow = {
      ...rest,
      version: current.version + 1,
      workflow: { ...current.workflow, enabled },
      "updated_at": (options.now ?? new Date()).toISOString(),
      "updated_by": options.actor,
      ...(until ? { disabled_until: until } : {}),
    };
    const change = enabled ? "enabled" : until ? `disabled until ${until}` : "disabled";
    if (await commitNextVersion(kv, entry, next, change)) return next;
  }
  throw new ConflictError(
    `Cannot change workflow "${id}": it kept changing concurrently (${MAX_WRITE_ATTEMPTS} attempts)`,
  );
}

/**
 * Re-enables, as a new version, every workflow whose `disabled_until` has passed; a cleanup the
 * server may run now and then (readers already treat such workflows as enabled).
 */
export async function reenableExpiredWorkflows(
  kv: Deno.Kv,
  options: { now?: Date } = {},
): Promise<StoredWorkflow[]> {
  const now = options.now ?? new Date();
  const changed: StoredWorkflow[] = [];
  for await (const entry of kv.list<StoredWorkflow>({ prefix: [KEY_WORKFLOWS] })) {
    const until = entry.value.disabled_until;
    if (entry.value.workflow.enabled || !until || Date.parse(until) > now.getTime()) continue;
    if (entry.value.workflow.trigger === null) continue;
    changed.push(
      await setWorkflowEnabled(kv, entry.value.id, true, { actor: "system:disabled-until", now }),
    );
  }
  return changed;
}

/**
 * Deletes a workflow and its name and trigger index entries. Its history stays, closed by a
 * "deleted" version naming who deleted it.
 *
 * @throws {NotFoundError} when no workflow has that id.
 * @throws {ConflictError} when the workflow changed while being deleted.
 */
export async function deleteWorkflow(
  kv: Deno.Kv,
  id: string,
  options: { actor: string; now?: Date },
): Promise<void> {
  const entry = await kv.get<StoredWorkflow>(workflowKey(id));
  const current = entry.value;
  if (!current) throw new NotFoundError(`Cannot delete workflow "${id}": no such workflow`);
  const tombstone: WorkflowVersion = {
    "workflow_id": id,
    version: current.version + 1,
    workflow: current.workflow,
    "saved_at": (options.now ?? new Date()).toISOString(),
    "saved_by": options.actor,
    change: "deleted",
  };
  const op = kv.atomic()
    .check(entry)
    .delete(workflowKey(id))
    .delete(workflowNameKey(current.name));
  const triggerKey = workflowTriggerKey(current);
  if (triggerKey) op.delete(triggerKey);
  const result = await op
    .set(workflowVersionKey(id, tombstone.version), tombstone)
    .sum(WORKFLOWS_REVISION_KEY, 1n)
    .commit();
  if (!result.ok) {
    throw new ConflictError(
      `Cannot delete workflow "${current.name}": it was changed concurrently`,
    );
  }
}

/**
 * The workflow with this id, or else this name; null when neither exists, among them for text too
 * long to be either (a name whose key KV could not have written, which KV also refuses to read).
 */
export async function getWorkflow(kv: Deno.Kv, idOrName: string): Promise<StoredWorkflow | null> {
  if (estimateKeyBytes(workflowNameKey(idOrName)) > MAX_KEY_BYTES) return null;
  const byId = await kv.get<StoredWorkflow>(workflowKey(idOrName));
  if (byId.value) return byId.value;
  const byName = await kv.get<string>(workflowNameKey(idOrName));
  if (!byName.value) return null;
  return (await kv.get<StoredWorkflow>(workflowKey(byName.value))).value;
}

/**
 * Every workflow (or those of one trigger: never a trigger-less draft), ordered by trigger (drafts
 * last), then `order`, then name.
 */
export async function listWorkflows(
  kv: Deno.Kv,
  options: ListWorkflowsOptions = {},
): Promise<StoredWorkflow[]> {
  const workflows: StoredWorkflow[] = [];
  if (options.trigger === undefined) {
    for await (const entry of kv.list<StoredWorkflow>({ prefix: [KEY_WORKFLOWS] })) {
      workflows.push(entry.value);
    }
  } else {
    const ids: string[] = [];
    const index = kv.list<string>({ prefix: [KEY_WORKFLOWS_BY_TRIGGER, options.trigger] });
    for await (const entry of index) ids.push(entry.value);
    for (let i = 0; i < ids.length; i += MAX_GET_MANY_KEYS) {
      const keys = ids.slice(i, i + MAX_GET_MANY_KEYS).map(workflowKey);
      for (const entry of await kv.getMany<StoredWorkflow[]>(keys)) {
        if (entry.value) workflows.push(entry.value);
      }
    }
  }
  return workflows.sort(compareWorkflows);
}

/** Orders workflows by trigger (trigger-less drafts last), then `order`, then name. */
export function compareWorkflows(a: StoredWorkflow, b: StoredWorkflow): number {
  const byTrigger = a.workflow.trigger === b.workflow.trigger
    ? 0
    : a.workflow.trigger === null
    ? 1
    : b.workflow.trigger === null
    ? -1
    : a.workflow.trigger.localeCompare(b.workflow.trigger);
  return byTrigger || a.workflow.order - b.workflow.order || a.name.localeCompare(b.name);
}

/** Every saved version of a workflow, oldest first (deleted workflows keep theirs). */
export async function listWorkflowVersions(kv: Deno.Kv, id: string): Promise<WorkflowVersion[]> {
  const versions: WorkflowVersion[] = [];
  for await (const entry of kv.list<WorkflowVersion>({ prefix: [KEY_WORKFLOW_VERSIONS, id] })) {
    versions.push(entry.value);
  }
  return versions;
}

/** One saved version of a workflow, or null. */
export async function getWorkflowVersion(
  kv: Deno.Kv,
  id: string,
  version: number,
): Promise<WorkflowVersion | null> {
  return (await kv.get<WorkflowVersion>(workflowVersionKey(id, version))).value;
}

function versionOf(stored: StoredWorkflow, change: string): WorkflowVersion {
  return {
    workflow_id: stored.id,
    version: stored.version,
    workflow: stored.workflow,
    saved_at: stored.updated_at,
    saved_by: stored.updated_by,
    change,
  };
}

function assertFits(stored: StoredWorkflow, version: WorkflowVersion): void {
  const bytes = Math.max(jsonByteLength(stored), jsonByteLength(version));
  if (bytes > MAX_WORKFLOW_VALUE_BYTES) {
    throw new RangeError(
      `Cannot save workflow "${stored.name}": it takes ${bytes} bytes stored, over the ${MAX_WORKFLOW_VALUE_BYTES}-byte limit`,
    );
  }
}

/** Writes `next` as the new version of the workflow read as `entry`; false when a check failed. */
async function commitNextVersion(
  kv: Deno.Kv,
  entry: Deno.KvEntry<StoredWorkflow>,
  next: StoredWorkflow,
  change: string,
): Promise<boolean> {
  const current = entry.value;
  const version = versionOf(next, change);
  assertFits(next, version);
  const op = kv.atomic().check(entry);
  if (current.name !== next.name) {
    op.check({ key: workflowNameKey(next.name), versionstamp: null })
      .delete(workflowNameKey(current.name))
      .set(workflowNameKey(next.name), next.id);
  }
  const oldTriggerKey = workflowTriggerKey(current);
  const newTriggerKey = workflowTriggerKey(next);
  const sameKey = oldTriggerKey !== undefined && newTriggerKey !== undefined &&
    oldTriggerKey.length === newTriggerKey.length &&
    oldTriggerKey.every((part, i) => part === newTriggerKey[i]);
  if (!sameKey) {
    if (oldTriggerKey) op.delete(oldTriggerKey);
    if (newTriggerKey) op.set(newTriggerKey, next.id);
  }
  const result = await op
    .set(workflowKey(next.id), next)
    .set(workflowVersionKey(next.id, next.version), version)
    .sum(WORKFLOWS_REVISION_KEY, 1n)
    .commit();
  return result.ok;
}
