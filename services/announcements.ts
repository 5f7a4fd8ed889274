/**
 * The announcement hub of blocked runs: the verdict path announces, the surfaces that show blocks
 * (the chat) subscribe. The service layer so never knows who listens.
 *
 * @module
 */

import { log } from "../engine/log.ts";
import type { RunRecord } from "../store/types.ts";

/** Hears of a blocked run; it must not make the verdict path wait (start work, do not await it). */
export type BlockedRunListener = (run: RunRecord) => void;

/** Where blocked runs are announced; built once with the app context. */
export class RunAnnouncements {
  readonly #listeners = new Set<BlockedRunListener>();

  /** Registers a listener of blocked runs; returns the function that removes it. */
  subscribe(listener: BlockedRunListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells every listener of `run`; a listener that throws is logged, never thrown at the caller. */
  announceBlocked(run: RunRecord): void {
    for (const listener of this.#listeners) {
      try {
        listener(run);
      } catch (error) {
        log.error("Announcing a blocked run failed", {
          run_id: run.id,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
}
