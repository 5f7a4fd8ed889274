/**
 * Where concurrent-task sub-walks go after the main walk: a `DeferredRunner` (the server provides
 * a KV queue one) and an in-process implementation for the CLI, tests and single-process setups.
 *
 * @module
 */

import type { DeferredWalk, RunResult, Workflow } from "./model.ts";
import { type RunAncestor, runDeferredWalk, type RunOptions } from "./run_workflow.ts";

/** What a deferred sub-walk needs besides its snapshot: the workflow it belongs to. */
export interface DeferredContext {
  workflow: Workflow;
  /** Id of the workflow, for error strings and the re-entrancy guard. */
  workflowId?: string;
  /** The ancestry of the run that created the sub-walk. */
  ancestry?: RunAncestor[];
  dryRun?: boolean;
}

/** Runs deferred sub-walks later, in no guaranteed order, never on the verdict path. */
export interface DeferredRunner {
  /** Accepts one sub-walk; resolves once it is recorded (not once it has run). */
  schedule(walk: DeferredWalk, context: DeferredContext): Promise<void>;
}

/** Options shared by every sub-walk the in-process runner starts. */
export type InProcessRunnerOptions = Omit<
  RunOptions,
  "startNodeId" | "workflowId" | "ancestry" | "dryRun"
>;

/**
 * Keeps sub-walks in memory and runs them when `drain()` is called, including the sub-walks their
 * own concurrent tasks create.
 */
export class InProcessDeferredRunner implements DeferredRunner {
  readonly #options: InProcessRunnerOptions;
  readonly #queue: { walk: DeferredWalk; context: DeferredContext }[] = [];

  /** Sub-walks run with `options` (services, modules, clock…). */
  constructor(options: InProcessRunnerOptions) {
    this.#options = options;
  }

  /** Queues one sub-walk. */
  schedule(walk: DeferredWalk, context: DeferredContext): Promise<void> {
    this.#queue.push({ walk, context });
    return Promise.resolve();
  }

  /** Sub-walks waiting to run. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Runs every queued sub-walk, and those they defer in turn, in queue order. */
  async drain(): Promise<RunResult[]> {
    const results: RunResult[] = [];
    for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
      const { walk, context } = next;
      const result = await runDeferredWalk(context.workflow, walk, {
        ...this.#options,
        workflowId: context.workflowId,
        ancestry: context.ancestry,
        dryRun: context.dryRun,
      });
      for (const child of result.deferred) await this.schedule(child, context);
      results.push(result);
    }
    return results;
  }
}

/** Hands every sub-walk of a finished run to `runner`. */
export async function scheduleDeferred(
  runner: DeferredRunner,
  result: Pick<RunResult, "deferred">,
  context: DeferredContext,
): Promise<void> {
  for (const walk of result.deferred) await runner.schedule(walk, context);
}
