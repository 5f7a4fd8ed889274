/**
 * The verdict hot path's workflow lookup: a per-process cache of workflows by trigger, reloaded
 * when the `["workflows_revision"]` counter (bumped by every workflow write) changes. Concurrent
 * callers share revision reads and reloads, so a burst of requests costs the store a few reads,
 * not one each.
 *
 * @module
 */

import { KEY_WORKFLOWS, KEY_WORKFLOWS_REVISION } from "./keys.ts";
import type { StoredWorkflow } from "./types.ts";

/** Options of `listEnabledWorkflows`. */
export interface ListEnabledWorkflowsOptions {
  /** Clock, for tests: decides whether a `disabled_until` has passed. */
  now?: Date;
}

interface EnabledList {
  workflows: StoredWorkflow[];
  /** Epoch ms the list was built for; an earlier clock (tests) rebuilds it. */
  builtAt: number;
  /** Epoch ms at which a `disabled_until` in this trigger passes and the list must be rebuilt. */
  validUntil: number;
}

/**
 * The revision reads of one KV: `next` is a read not yet sent (callers join it), `sent` the one
 * on its way to the store (callers arriving now must not join it: it may miss a write they saw).
 */
interface RevisionReads {
  next?: Promise<string | null>;
  sent?: Promise<unknown>;
}

interface CacheState {
  /** Versionstamp of the revision counter the cache was loaded at (null: never written). */
  revision: string | null;
  byTrigger: Map<string, StoredWorkflow[]>;
  enabled: Map<string, EnabledList>;
}

const caches = new WeakMap<Deno.Kv, CacheState>();
const revisionReads = new WeakMap<Deno.Kv, RevisionReads>();
const loads = new WeakMap<Deno.Kv, { revision: string | null; state: Promise<CacheState> }>();
const REVISION_KEY: Deno.KvKey = [KEY_WORKFLOWS_REVISION];

/**
 * True when the workflow runs at `now`: it has a trigger and is enabled, or disabled with a
 * `disabled_until` that has passed. A trigger-less draft never runs.
 */
export function isWorkflowEnabled(stored: StoredWorkflow, now: Date = new Date()): boolean {
  if (stored.workflow.trigger === null) return false;
  if (stored.workflow.enabled) return true;
  return stored.disabled_until !== undefined && Date.parse(stored.disabled_until) <= now.getTime();
}

/**
 * The workflows of `trigger` that run now, in ascending `order` (then name). Each call sees every
 * workflow write committed before it began: it waits for a strongly consistent read of the
 * revision counter sent after it began, shared with the calls that began meanwhile. The
 * workflows come from memory unless a write happened since the last load.
 */
export async function listEnabledWorkflows(
  kv: Deno.Kv,
  trigger: string,
  options: ListEnabledWorkflowsOptions = {},
): Promise<StoredWorkflow[]> {
  const revision = await readRevision(kv);
  let state = caches.get(kv);
  if (!state || state.revision !== revision) {
    state = await loadCacheOnce(kv, revision);
    // Loads that overlap may finish out of order: the newest revision stays.
    const cached = caches.get(kv);
    if (!cached || (cached.revision ?? "") < (revision ?? "")) caches.set(kv, state);
  }
  return enabledOf(state, trigger, options.now ?? new Date());
}

/** The workflows of `trigger` that run at `now` in `state`, the list kept until it changes. */
function enabledOf(state: CacheState, trigger: string, now: Date): StoredWorkflow[] {
  let list = state.enabled.get(trigger);
  if (!list || now.getTime() >= list.validUntil || now.getTime() < list.builtAt) {
    list = buildEnabledList(state.byTrigger.get(trigger) ?? [], now);
    state.enabled.set(trigger, list);
  }
  return list.workflows.slice();
}

/** Enabled workflows from this process's cache, with the revision they were loaded at. */
export interface CachedEnabledWorkflows {
  workflows: StoredWorkflow[];
  /** Versionstamp of the revision counter the cache holds (null: never written). */
  revision: string | null;
}

/**
 * The workflows of `trigger` that run now according to this process's cache, without reading the
 * store: they may be out of date, so the caller must commit its work with a check that the
 * revision counter is still at `revision` (`recordIntakes` does). Undefined before any load.
 */
export function cachedEnabledWorkflows(
  kv: Deno.Kv,
  trigger: string,
  options: ListEnabledWorkflowsOptions = {},
): CachedEnabledWorkflows | undefined {
  const state = caches.get(kv);
  if (!state) return undefined;
  return {
    workflows: enabledOf(state, trigger, options.now ?? new Date()),
    revision: state.revision,
  };
}

/**
 * The versionstamp of the revision counter, read after this call began: joins the read not yet
 * sent, or queues one behind the read in flight (which may have left before a write this caller
 * already saw committed).
 */
function readRevision(kv: Deno.Kv): Promise<string | null> {
  let reads = revisionReads.get(kv);
  if (!reads) revisionReads.set(kv, reads = {});
  const state = reads;
  if (state.next) return state.next;
  const inFlight = state.sent;
  const next = (async () => {
    await inFlight?.catch(() => {});
    state.next = undefined;
    const read = kv.get(REVISION_KEY);
    state.sent = read;
    return (await read).versionstamp;
  })();
  state.next = next;
  return next;
}

/** The cache at `revision`, loaded once for the callers that need it at the same time. */
function loadCacheOnce(kv: Deno.Kv, revision: string | null): Promise<CacheState> {
  const loading = loads.get(kv);
  if (loading && loading.revision === revision) return loading.state;
  const state = loadCache(kv, revision);
  loads.set(kv, { revision, state });
  const forget = () => {
    if (loads.get(kv)?.state === state) loads.delete(kv);
  };
  state.then(forget, forget);
  return state;
}

async function loadCache(kv: Deno.Kv, revision: string | null): Promise<CacheState> {
  const byTrigger = new Map<string, StoredWorkflow[]>();
  for await (const entry of kv.list<StoredWorkflow>({ prefix: [KEY_WORKFLOWS] })) {
    const trigger = entry.value.workflow.trigger;
    if (trigger === null) continue; // a trigger-less draft is listed for no trigger
    const list = byTrigger.get(trigger) ?? [];
    list.push(entry.value);
    byTrigger.set(trigger, list);
  }
  for (const list of byTrigger.values()) {
    list.sort((a, b) => a.workflow.order - b.workflow.order || a.name.localeCompare(b.name));
  }
  return { revision, byTrigger, enabled: new Map() };
}

function buildEnabledList(workflows: StoredWorkflow[], now: Date): EnabledList {
  let validUntil = Number.POSITIVE_INFINITY;
  const enabled = workflows.filter((stored) => {
    if (isWorkflowEnabled(stored, now)) return true;
    if (stored.disabled_until !== undefined) {
      validUntil = Math.min(validUntil, Date.parse(stored.disabled_until));
    }
    return false;
  });
  return { workflows: enabled, builtAt: now.getTime(), validUntil };
}
