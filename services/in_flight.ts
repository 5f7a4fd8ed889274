/**
 * The runs this process is executing from the queue, by workflow and data fingerprint: when one
 * of their actions makes MISP call back (a re-publish, an edit that fires the trigger again), the
 * nested run gets them as its ancestry and the engine's re-entrancy guard stops the loop.
 *
 * Verdict runs are not registered: a second, concurrent `/query` for the same event is a real
 * request (MISP retried, two users), and must be decided, not waved through as re-entrant.
 *
 * @module
 */

import type { JsonObject } from "../engine/model.ts";
import { dataFingerprint, type RunAncestor } from "../engine/run_workflow.ts";

/** Registry of in-flight queue runs. */
export class InFlightRuns {
  readonly #byFingerprint = new Map<string, Map<string, number>>();

  /** Registers a run of `workflowId` on `data`; call the returned function when it ends. */
  enter(workflowId: string, data: JsonObject): () => void {
    const fingerprint = dataFingerprint(data);
    const workflows = this.#byFingerprint.get(fingerprint) ?? new Map<string, number>();
    workflows.set(workflowId, (workflows.get(workflowId) ?? 0) + 1);
    this.#byFingerprint.set(fingerprint, workflows);
    return () => {
      const count = (workflows.get(workflowId) ?? 1) - 1;
      if (count > 0) workflows.set(workflowId, count);
      else workflows.delete(workflowId);
      if (workflows.size === 0) this.#byFingerprint.delete(fingerprint);
    };
  }

  /** The in-flight runs on the same data as `data` (empty when none: the common case). */
  ancestryOf(data: JsonObject): RunAncestor[] {
    return ancestorsIn(this.#byFingerprint, data);
  }

  /**
   * The registry as it is now, by data fingerprint (empty when no run is in flight), for a
   * verdict decided on another thread (`ancestorsIn` there).
   */
  snapshot(): InFlightSnapshot {
    return [...this.#byFingerprint].map(([fingerprint, workflows]) => [fingerprint, [
      ...workflows.keys(),
    ]]);
  }
}

/** The in-flight runs at one moment: data fingerprint, and the workflows running on that data. */
export type InFlightSnapshot = [fingerprint: string, workflowIds: string[]][];

/** The runs of `byFingerprint` (fingerprint to workflow ids) on the same data as `data`. */
export function ancestorsIn(
  byFingerprint: ReadonlyMap<string, { keys(): Iterable<string> }>,
  data: JsonObject,
): RunAncestor[] {
  if (byFingerprint.size === 0) return [];
  const fingerprint = dataFingerprint(data);
  const workflows = byFingerprint.get(fingerprint);
  if (!workflows) return [];
  return [...workflows.keys()].map((workflow) => ({ workflow, fingerprint }));
}
