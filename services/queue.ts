/**
 * The KV queue listener: webhook intakes, deferred `concurrent-task` sub-walks and action retries.
 * Handlers are idempotent: an intake run whose record exists is not run again, and a job is marked
 * done (atomic check) before its node runs, so a redelivered message never runs a node twice.
 *
 * An acknowledged run always ends up stored: a deterministic error (one a redelivery would meet
 * again) records the run as a `failure` with the error instead of being redelivered; only
 * transient store errors are thrown for redelivery. A retry of a failed action is an attempt of
 * the run it belongs to, recorded in that run's history (`run_attempts`), never a run of its own.
 *
 * @module
 */

import type { JsonObject, RunActor, RunResult, Workflow } from "../engine/model.ts";
import { log } from "../engine/log.ts";
import { dataFingerprint, runWorkflow } from "../engine/run_workflow.ts";
import type { PlannedSet } from "../store/commit_plan.ts";
import { addDeadLetter } from "../store/dead_letters.ts";
import { getIntakePayloads } from "../store/intake.ts";
import type { IntakeBatchMessage } from "../store/intake_batch.ts";
import { requeueUnfinishedIntakes } from "../store/intake_recovery.ts";
import {
  enqueueJob,
  getJob,
  intakeWorkId,
  type JobMessage,
  jobWorkId,
  KEY_QUEUE_DONE,
  markWorkDone,
  QUEUE_JOB_RETENTION_MS,
} from "../store/queue_jobs.ts";
import { recordRunAttempt, settleRunOutcome } from "../store/run_attempts.ts";
import { type RunToSave, storedRunIds } from "../store/runs.ts";
import type { IntakeMessage, RunAttempt, RunRecord, StoredWorkflow } from "../store/types.ts";
import { getWorkflow, getWorkflowVersion, listEnabledWorkflows } from "../store/workflows.ts";
import type { AppContext } from "./context.ts";
import { describeError, isDeterministicError } from "./deterministic_error.ts";
import { ACTION_RETRY_BASE_MS, type DeferredJob, type RetryJob } from "./follow_ups.ts";
import { processMemory } from "./idle_memory_release.ts";
import {
  engineOptions,
  type ExecutedRun,
  executeRun,
  type ExecuteRunContext,
  recordRuns,
  type RecordRunsContext,
  runAndRecord,
  type RunTarget,
} from "./run_and_record.ts";
import { buildRunRecord } from "./run_record.ts";

/** How far back the start-up sweep looks for intakes whose runs are missing. */
export const INTAKE_RECOVERY_LOOKBACK_MS = 15 * 60_000;

/** Most attempts of a failed non-blocking action before it goes to the dead letters. */
export const MAX_ACTION_ATTEMPTS = 5;

/** What the intake stores as its payload: which workflow runs under which run id, and the data. */
export interface IntakePayload {
  workflows: { id: string; version: number; run_id: string }[];
  actor: RunActor;
  data: JsonObject;
}

/** The workflows of one queue message's runs, each read once (see `messageWorkflows`). */
interface MessageWorkflows {
  /** The workflow `id` of `trigger`'s intake: enabled, or read by id; null once deleted. */
  find(trigger: string, id: string): Promise<StoredWorkflow | null>;
}

/** What the queue listener needs from the app context. */
export type QueueContext =
  & ExecuteRunContext
  & RecordRunsContext
  & Pick<AppContext, "kv" | "now" | "config" | "metrics" | "runs" | "inFlight" | "foreground">;

/** Options of `createQueueHandler`. */
export interface QueueHandlerOptions {
  /** Delay of the first action retry (tests pass 0). */
  retryBaseMs?: number;
  maxAttempts?: number;
}

/**
 * Enqueues again the intakes received before `startedAt` whose runs are missing: a message in
 * flight when the previous process died only comes back once the KV queue's lease cleanup runs,
 * up to a minute later. Idempotent handlers make the extra delivery harmless.
 */
export async function recoverUnfinishedIntakes(
  ctx: Pick<AppContext, "kv" | "metrics">,
  startedAt: number,
): Promise<number> {
  const report = await requeueUnfinishedIntakes(ctx.kv, {
    since: new Date(startedAt - INTAKE_RECOVERY_LOOKBACK_MS),
    until: new Date(startedAt),
  });
  if (report.requeued.length > 0) {
    log.info("Unfinished intakes queued again", {
      scanned: report.scanned,
      requeued: report.requeued.length,
    });
    ctx.metrics.queueEnqueued(report.requeued.length);
  }
  return report.requeued.length;
}

/** Builds the `kv.listenQueue` handler. It throws only when the message should be redelivered. */
export function createQueueHandler(
  ctx: QueueContext,
  options: QueueHandlerOptions = {},
): (message: unknown) => Promise<void> {
  const inFlight = new Set<string>();
  const retryBaseMs = options.retryBaseMs ?? ACTION_RETRY_BASE_MS;
  const maxAttempts = options.maxAttempts ?? MAX_ACTION_ATTEMPTS;

  /**
   * Runs the entries of an intake this handler claimed (`mine`) whose runs are not `stored` yet,
   * and stores them. True when its done mark rode in the commit of its last run; false when the
   * caller still has to write it (no run to store, or the runs were stored one by one).
   */
  async function handleIntake(
    message: IntakeMessage,
    payload: IntakePayload,
    mine: IntakePayload["workflows"],
    stored: ReadonlySet<string>,
    workflows: MessageWorkflows,
  ): Promise<boolean> {
    const runs: ExecutedRun[] = [];
    for (const entry of mine) {
      if (stored.has(entry.run_id)) continue;
      const startedAt = ctx.now();
      let workflow: StoredWorkflow | null = null;
      try {
        workflow = await workflows.find(message.trigger, entry.id);
        if (workflow === null) {
          log.warn("Workflow deleted before its queued run", { workflow_id: entry.id });
          continue;
        }
        const ancestry = ctx.inFlight.ancestryOf(payload.data);
        const leave = ctx.inFlight.enter(workflow.id, payload.data);
        runs.push(
          await executeRun(ctx, workflow, payload.data, {
            runId: entry.run_id,
            actor: payload.actor,
            ancestry,
            retriesQueued: true,
          }).finally(leave),
        );
      } catch (error) {
        if (!isDeterministicError(error)) throw error;
        const failed = workflow ?? { id: entry.id, name: entry.id, version: entry.version };
        runs.push(failedRun(failed, message.trigger, entry.run_id, payload, startedAt, error));
      }
    }
    const last = runs.at(-1);
    if (!last) return false;
    // The intake's done mark rides in the commit of its last run: one commit less per intake.
    last.saved.alsoSet = [doneMark(message.intake_id)];
    let marked = false;
    await recordRuns(ctx, runs, {
      save: async (saved) => {
        marked = await storeQueueRuns(message.trigger, saved);
      },
      retryBaseMs,
      onFollowUpError: (error) => {
        // The runs are stored: a redelivery would skip them and schedule nothing either.
        log.error("Cannot schedule the queue follow-ups of a queue run", {
          intake_id: message.intake_id,
          error: describeError(error),
        });
      },
    });
    return marked;
  }

  /**
   * An intake message and the intakes committed with it (`also`). Their runs go side by side (and
   * share commits), except that intakes on the same data go one after the other: run at once,
   * the later would look like a re-entrant call to the re-entrancy guard. Every intake gets its
   * turn; the first failure is thrown afterwards for redelivery, which skips the stored runs.
   *
   * The store is read per message, not per intake: the payloads together, then which runs are
   * stored, the enabled workflows once per trigger; the done marks of the intakes whose runs did
   * not carry theirs go in one commit at the end.
   */
  async function handleIntakes(message: IntakeMessage | IntakeBatchMessage): Promise<void> {
    const intakes = "also" in message && Array.isArray(message.also)
      ? [message, ...message.also]
      : [message];
    const payloads = await loadIntakePayloads(intakes);
    // Claimed synchronously, before any await, so a concurrent redelivery skips them; what is
    // stored is read after the claim, so a run stored meanwhile is seen.
    const claims = payloads.map((payload) => {
      const mine: IntakePayload["workflows"] = [];
      for (const entry of payload?.workflows ?? []) {
        if (inFlight.has(entry.run_id)) continue;
        inFlight.add(entry.run_id);
        mine.push(entry);
      }
      return mine;
    });
    const release = (i: number) => {
      for (const entry of claims[i]!) inFlight.delete(entry.run_id);
      claims[i] = [];
    };
    let failure: { error: unknown } | undefined;
    try {
      const stored = await storedRunIds(
        ctx.kv,
        claims.flatMap((mine) => mine.map((entry) => entry.run_id)),
      );
      const workflows = messageWorkflows();
      const unmarked: string[] = [];
      const sameData = new Map<string, number[]>();
      payloads.forEach((payload, i) => {
        const key = payload === null ? `missing:${i}` : dataFingerprint(payload.data);
        sameData.set(key, [...(sameData.get(key) ?? []), i]);
      });
      await Promise.all([...sameData.values()].map(async (indexes) => {
        for (const i of indexes) {
          const intake = intakes[i]!;
          const payload = payloads[i] ?? null;
          try {
            const marked = payload !== null &&
              await handleIntake(intake, payload, claims[i]!, stored, workflows);
            if (marked) ctx.metrics.queueHandled("intake");
            else unmarked.push(intake.intake_id);
          } catch (error) {
            failure ??= { error };
          } finally {
            release(i);
          }
        }
      }));
      try {
        await markIntakesDone(unmarked);
        for (const _ of unmarked) ctx.metrics.queueHandled("intake");
      } catch (error) {
        failure ??= { error };
      }
    } finally {
      claims.forEach((_, i) => release(i));
    }
    if (failure) throw failure.error;
  }

  /**
   * The intakes' payloads, read together; null (logged, dead-lettered when unreadable) for one
   * that is gone or unreadable. A store error is thrown for redelivery.
   */
  async function loadIntakePayloads(
    messages: readonly IntakeMessage[],
  ): Promise<(IntakePayload | null)[]> {
    const reads = await getIntakePayloads(ctx.kv, messages.map((message) => message.intake_id));
    return await Promise.all(reads.map(async (read, i) => {
      const message = messages[i]!;
      if (read.status === "fulfilled") {
        if (read.value === null) {
          log.warn("Intake payload missing or expired", { intake_id: message.intake_id });
        }
        return read.value as IntakePayload | null;
      }
      const error = read.reason;
      if (!isDeterministicError(error)) throw error;
      log.error("Intake payload unreadable", {
        intake_id: message.intake_id,
        error: describeError(error),
      });
      await addDeadLetter(ctx.kv, {
        kind: "intake",
        payload: message,
        error: `Intake payload unreadable: ${describeError(error)}`,
        attempts: 1,
      });
      return null;
    }));
  }

  /**
   * The workflows a message's runs need, each read once per message: the enabled workflows of
   * each trigger, and a workflow no longer among them (disabled since) by its id.
   */
  function messageWorkflows(): MessageWorkflows {
    const enabled = new Map<string, Promise<StoredWorkflow[]>>();
    const byId = new Map<string, Promise<StoredWorkflow | null>>();
    return {
      async find(trigger, id) {
        let list = enabled.get(trigger);
        if (!list) enabled.set(trigger, list = listEnabledWorkflows(ctx.kv, trigger));
        const found = (await list).find((candidate) => candidate.id === id);
        if (found) return found;
        let one = byId.get(id);
        if (!one) byId.set(id, one = getWorkflow(ctx.kv, id));
        return await one;
      },
    };
  }

  /** The done mark of an intake, as a set riding in another commit. */
  function doneMark(intakeId: string): PlannedSet {
    return {
      key: [KEY_QUEUE_DONE, intakeWorkId(intakeId)],
      value: new Date(ctx.now()).toISOString(),
      expireIn: QUEUE_JOB_RETENTION_MS,
    };
  }

  /**
   * The done marks of intakes, in one commit. A message carries at most a few hundred intakes
   * (KV queue messages stay under 64 KiB), far under KV's 1,000 mutations per commit.
   */
  async function markIntakesDone(intakeIds: readonly string[]): Promise<void> {
    if (intakeIds.length === 0) return;
    const commit = ctx.kv.atomic();
    for (const id of intakeIds) {
      const { key, value, expireIn } = doneMark(id);
      commit.set(key, value, { expireIn });
    }
    await commit.commit();
  }

  /**
   * Stores the runs of an intake. A deterministic failure is not redelivered: each run is stored
   * alone, and one that still fails is stored as a `failure` run carrying the error, so every
   * acknowledged run id exists. Transient failures are thrown for redelivery. True when the runs
   * were stored as given in one go (with the sets they carry).
   */
  async function storeQueueRuns(trigger: string, runs: RunToSave[]): Promise<boolean> {
    try {
      await ctx.runs.submit(runs);
      return true;
    } catch (error) {
      if (!isDeterministicError(error)) throw error;
    }
    for (const item of runs) {
      try {
        await ctx.runs.submit([item]);
        continue;
      } catch (error) {
        if (!isDeterministicError(error)) throw error;
        ctx.metrics.recordRunStoreFailure(trigger);
        log.error("Cannot store a queue run; storing it as a failure", {
          run_id: item.run.id,
          error: describeError(error),
        });
        await storeFailureInstead(item, error);
      }
    }
    return false;
  }

  /** Stores a run that could not be stored as a bare `failure` run, or dead-letters it. */
  async function storeFailureInstead(item: RunToSave, error: unknown): Promise<void> {
    const { run } = item;
    const failure: RunRecord = {
      ...run,
      outcome: "failure",
      success: false,
      errors: [`Flowgate could not store this run: ${describeError(error)}`],
      trace: [],
    };
    delete failure.deciding_node_id;
    for (const input of [item.input, null]) {
      try {
        await ctx.runs.submit([{ run: failure, input }]);
        return;
      } catch (again) {
        if (!isDeterministicError(again)) throw again;
        error = again;
      }
    }
    log.error("Cannot store a queue run even as a failure", {
      run_id: run.id,
      error: describeError(error),
    });
    await addDeadLetter(ctx.kv, {
      kind: "run",
      payload: { run_id: run.id, workflow_id: run.workflow_id, trigger: run.trigger },
      error: `Cannot store run "${run.id}": ${describeError(error)}`,
      attempts: 1,
    });
  }

  /** The `failure` run of an intake entry whose run threw a deterministic error, counted. */
  function failedRun(
    workflow: Pick<StoredWorkflow, "id" | "name" | "version">,
    trigger: string,
    runId: string,
    payload: IntakePayload,
    startedAt: number,
    error: unknown,
  ): ExecutedRun {
    log.error("Queue run failed on a deterministic error; recorded as a failure", {
      run_id: runId,
      workflow_id: workflow.id,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    const message = `Flowgate could not run this workflow: ${describeError(error)}`;
    const result: RunResult = {
      outcome: "failure",
      success: false,
      errors: [message],
      trace: [],
      deferred: [],
      retries: [],
      duration_ms: ctx.now() - startedAt,
    };
    const run = buildRunRecord({ ...workflow, workflow: { trigger } }, result, {
      runId,
      actor: payload.actor,
      startedAt,
      finishedAt: ctx.now(),
      input: payload.data,
      inputHash: "",
      dryRun: false,
    });
    ctx.metrics.recordRun(trigger, run.outcome);
    return { saved: { run, input: payload.data }, result, followUpTarget: null };
  }

  async function loadWorkflowVersion(id: string, version: number): Promise<Workflow | null> {
    const saved = await getWorkflowVersion(ctx.kv, id, version);
    if (saved) return saved.workflow;
    return (await getWorkflow(ctx.kv, id))?.workflow ?? null;
  }

  async function handleDeferred(jobId: string, job: DeferredJob): Promise<void> {
    const target: RunTarget = {
      id: job.workflow_id,
      name: job.workflow_name,
      version: job.workflow_version,
      workflow: job.workflow,
    };
    await runAndRecord(ctx, target, job.walk.data, {
      actor: { kind: "queue", id: `deferred:${job.parent_run_id}:${jobId}` },
      startNodeId: job.walk.start_node_id,
      dryRun: job.dry_run ?? false,
      retriesQueued: true,
      retryBaseMs,
      ...(job.ancestry ? { ancestry: job.ancestry } : {}),
    });
  }

  /**
   * Runs the failed node again and records the attempt in its run's history: ok, failed with a
   * next try due (a new job), or failed for good (dead letter). Then settles the run's outcome.
   */
  async function handleRetry(job: RetryJob): Promise<void> {
    const workflow = await loadWorkflowVersion(job.workflow_id, job.workflow_version);
    if (workflow === null || !workflow.nodes.some((node) => node.id === job.node_id)) {
      await recordAttempt(job, {
        ok: false,
        error: `Not retried: workflow "${job.workflow_id}" or its node "${job.node_id}" ` +
          "no longer exists",
      });
      return;
    }
    // Only the failed node runs again: its outgoing edges are cut so nothing after it repeats.
    const single: Workflow = {
      ...workflow,
      nodes: workflow.nodes.map((node) => node.id === job.node_id ? { ...node, next: [] } : node),
    };
    const result = await runWorkflow(single, job.data, {
      ...engineOptions(ctx),
      dryRun: false,
      workflowId: job.workflow_id,
      startNodeId: job.node_id,
    });
    const transient = result.retries[0];
    const entry = result.trace.findLast((candidate) => candidate.node_id === job.node_id);
    const ok = transient === undefined && result.success &&
      (entry === undefined || entry.status === "success");
    if (ok) {
      await recordAttempt(job, { ok: true });
      return;
    }
    const error = transient?.error ?? (entry?.errors.join("\n") || result.errors.join("\n")) ??
      "";
    if (transient === undefined || job.attempt >= maxAttempts) {
      await recordAttempt(job, { ok: false, error: error || "Failed" });
      if (transient !== undefined) {
        await addDeadLetter(ctx.kv, {
          kind: "action-retry",
          payload: job,
          error:
            `Action node "${job.node_id}" still failing after ${job.attempt} attempts: ${error}`,
          attempts: job.attempt,
        });
      }
      return;
    }
    const delayMs = retryBaseMs * 2 ** (job.attempt - 1);
    await enqueueJob(ctx.kv, {
      kind: "retry",
      payload: { ...job, error, attempt: job.attempt + 1 } satisfies RetryJob,
      delayMs,
      now: ctx.now(),
    });
    ctx.metrics.queueEnqueued();
    await recordAttempt(job, { ok: false, error, nextTryAt: ctx.now() + delayMs });
  }

  /** Records attempt `job.attempt` of the job's run and settles the run's outcome. */
  async function recordAttempt(
    job: RetryJob,
    result: { ok: boolean; error?: string; nextTryAt?: number },
  ): Promise<void> {
    const attempt: RunAttempt = {
      attempt: job.attempt,
      node_id: job.node_id,
      at: new Date(ctx.now()).toISOString(),
      ok: result.ok,
      ...(result.error === undefined ? {} : { error: result.error }),
      ...(result.nextTryAt === undefined
        ? {}
        : { next_try_at: new Date(result.nextTryAt).toISOString() }),
    };
    await recordRunAttempt(ctx.kv, job.parent_run_id, attempt, {
      retentionDays: ctx.config.retentionDays,
    });
    const outcome = await settleRunOutcome(ctx.kv, job.parent_run_id);
    if (outcome === null) {
      log.warn("Retried action's run is not stored", {
        run_id: job.parent_run_id,
        node_id: job.node_id,
      });
    }
  }

  /** A retry job that threw ends its action's attempts, so its run does not stay `retrying`. */
  async function giveUpRetry(job: RetryJob, error: unknown): Promise<void> {
    try {
      await recordAttempt(job, { ok: false, error: `Retry failed: ${describeError(error)}` });
    } catch (again) {
      log.error("Cannot record the failed attempt of a retry", {
        run_id: job.parent_run_id,
        error: describeError(again),
      });
    }
  }

  async function handleJob(message: JobMessage): Promise<void> {
    const loaded = await getJob(ctx.kv, message.job_id);
    if (loaded === null) {
      log.warn("Queue job missing or expired", { job_id: message.job_id });
      return;
    }
    // Marked before the node runs: a redelivery finds the mark and stops (at most once per job).
    if (!(await markWorkDone(ctx.kv, jobWorkId(message.job_id), ctx.now()))) return;
    try {
      if (loaded.job.kind === "deferred") {
        await handleDeferred(message.job_id, loaded.payload as DeferredJob);
      } else if (loaded.job.kind === "retry") await handleRetry(loaded.payload as RetryJob);
      else log.warn("Unknown queue job kind", { kind: loaded.job.kind });
    } catch (error) {
      await addDeadLetter(ctx.kv, {
        kind: loaded.job.kind,
        payload: loaded.payload,
        error: error instanceof Error ? error.message : String(error),
        attempts: 1,
      });
      log.error("Queue job failed", { job_id: message.job_id, error: String(error) });
      if (loaded.job.kind === "retry") await giveUpRetry(loaded.payload as RetryJob, error);
    }
  }

  return async (message: unknown) => {
    const kind = typeof message === "object" && message !== null
      ? (message as { type?: unknown }).type
      : undefined;
    // Requests being handled go first (see `ForegroundPriority`).
    const endTurn = await ctx.foreground.turn();
    // Queue work holds payloads too: no idle collection runs under it.
    processMemory.begin();
    try {
      if (kind === "intake") await handleIntakes(message as IntakeMessage | IntakeBatchMessage);
      else if (kind === "job") {
        await handleJob(message as JobMessage);
        ctx.metrics.queueHandled((message as JobMessage).kind);
      } else {
        log.warn("Unknown queue message", { message: JSON.stringify(message)?.slice(0, 200) });
      }
    } finally {
      processMemory.end();
      endTurn();
    }
  };
}
