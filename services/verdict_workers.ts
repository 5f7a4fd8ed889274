/**
 * The server's verdict Workers: a fixed pool of threads that parse and walk `/query` verdicts, so
 * the server's own thread only reads bodies, stores runs and answers (see `verdict_worker.ts`).
 * A request goes to the ready Worker with the fewest under way; until one is ready (its modules
 * take a moment to load at start), verdicts are decided on the server's thread. A Worker that fails, or still has not
 * answered a second after a request's verdict deadline (a module stuck in a loop), is replaced,
 * and the requests it held fail: `/query` answers them with a block.
 *
 * @module
 */

import { log } from "../engine/log.ts";
import type {
  VerdictWorkerAnswer,
  VerdictWorkerMessage,
  VerdictWorkerPost,
  VerdictWorkerRequest,
} from "./verdict_worker_protocol.ts";

/** How long past a request's deadline its Worker may take before it is presumed stuck. */
export const WORKER_STUCK_AFTER_MS = 1_000;

/** Workers replaced in a row without an answer in between, after which a slot stays empty. */
const MAX_FAILED_STARTS = 3;

/** Most workflow sets remembered as needing the server's thread. */
const MAX_REMEMBERED_SETS = 1_000;

/** A verdict Worker failed or got stuck with the request under way; no verdict exists. */
export class VerdictWorkerError extends Error {
  /** `reason` says what happened to the Worker. */
  constructor(reason: string, options?: ErrorOptions) {
    super(`The verdict Worker ${reason}; no verdict was reached`, options);
    this.name = "VerdictWorkerError";
  }
}

/** Options of `VerdictWorkers.start`. */
export interface VerdictWorkersOptions {
  /** Number of Workers. */
  size: number;
  /** Values redacted from traces (`configSecrets`). */
  secrets: string[];
  /** The Worker's module (default `verdict_worker.ts`; tests pass stand-ins that fail or hang). */
  workerUrl?: URL;
  /** Default `WORKER_STUCK_AFTER_MS`. */
  stuckAfterMs?: number;
}

/** A request for `VerdictWorkers.decide`: everything but the routing fields. */
export type VerdictRequest = Omit<VerdictWorkerRequest, "kind" | "id">;

interface Pending {
  resolve: (answer: VerdictWorkerAnswer) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Slot {
  worker: Worker | null;
  /** The Worker has loaded its modules and takes requests. */
  ready: boolean;
  pending: Map<number, Pending>;
  /** Workers of this slot replaced since its last answer. */
  failedStarts: number;
}

/** A fixed pool of verdict Workers. */
export class VerdictWorkers {
  readonly #options: VerdictWorkersOptions;
  readonly #slots: Slot[] = [];
  readonly #mainThreadSets = new Set<string>();
  #nextId = 1;
  #closed = false;

  private constructor(options: VerdictWorkersOptions) {
    this.#options = options;
  }

  /**
   * Starts `options.size` Workers; null when the runtime has no Workers (the verdicts are then
   * all decided on the server's thread, as with a size of 0).
   */
  static start(options: VerdictWorkersOptions): VerdictWorkers | null {
    if (options.size < 1 || typeof Worker !== "function") return null;
    const pool = new VerdictWorkers(options);
    try {
      for (let i = 0; i < options.size; i++) {
        const slot: Slot = { worker: null, ready: false, pending: new Map(), failedStarts: 0 };
        pool.#slots.push(slot);
        pool.#spawn(slot);
      }
    } catch (error) {
      pool.close();
      log.warn("Verdict Workers unavailable: verdicts are decided on the server's thread", {
        error: String(error),
      });
      return null;
    }
    return pool;
  }

  /** True while at least one Worker is ready for requests. */
  get available(): boolean {
    return this.readyCount > 0;
  }

  /** The Workers ready for requests now. */
  get readyCount(): number {
    return this.#closed ? 0 : this.#slots.filter((slot) => slot.ready).length;
  }

  /** The Workers this pool was started with. */
  get size(): number {
    return this.#slots.length;
  }

  /** The requests sent and not answered yet (`/healthz`). */
  get underWay(): number {
    return this.#slots.reduce((sum, slot) => sum + slot.pending.size, 0);
  }

  /**
   * True when a Worker declined this set of workflows before, because one of them asked for a
   * service only the server has: their verdicts go straight to the server's thread.
   */
  needsMainThread(workflowKeys: string): boolean {
    return this.#mainThreadSets.has(workflowKeys);
  }

  /** Remembers that this set of workflows needs the server's thread (`needsMainThread`). */
  rememberMainThread(workflowKeys: string): void {
    if (this.#mainThreadSets.size >= MAX_REMEMBERED_SETS) this.#mainThreadSets.clear();
    this.#mainThreadSets.add(workflowKeys);
  }

  /**
   * Sends `request` to the least busy Worker; its body's buffer is transferred (detached here)
   * and comes back in the answer.
   *
   * @throws {VerdictWorkerError} when no Worker is ready (see `available`), or the Worker fails or
   *   gets stuck before it answers
   */
  decide(request: VerdictRequest): Promise<VerdictWorkerAnswer> {
    const slot = this.#leastBusy();
    if (slot === undefined) return Promise.reject(new VerdictWorkerError("pool has none ready"));
    const id = this.#nextId++;
    return new Promise<VerdictWorkerAnswer>((resolve, reject) => {
      const timer = setTimeout(
        () => this.#replace(slot, new VerdictWorkerError("got stuck past the verdict deadline")),
        Math.max(0, request.remainingMs) +
          (this.#options.stuckAfterMs ?? WORKER_STUCK_AFTER_MS),
      );
      slot.pending.set(id, { resolve, reject, timer });
      const message: VerdictWorkerMessage = { kind: "decide", id, ...request };
      slot.worker!.postMessage(message, [request.body.buffer]);
    });
  }

  /** Stops every Worker; requests under way fail. */
  close(): void {
    this.#closed = true;
    for (const slot of this.#slots) {
      this.#failPending(slot, new VerdictWorkerError("was stopped with the server"));
      slot.worker?.terminate();
      slot.worker = null;
      slot.ready = false;
    }
  }

  #leastBusy(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.#slots) {
      if (!slot.ready) continue;
      if (best === undefined || slot.pending.size < best.pending.size) best = slot;
    }
    return best;
  }

  #spawn(slot: Slot): void {
    const url = this.#options.workerUrl ?? new URL("./verdict_worker.ts", import.meta.url);
    const worker = new Worker(url, { type: "module", name: "flowgate-verdict" });
    worker.onmessage = (event: MessageEvent<VerdictWorkerPost>) => {
      const answer = event.data;
      if (answer.kind === "ready") {
        slot.ready = true;
        return;
      }
      const pending = slot.pending.get(answer.id);
      if (pending === undefined) return;
      slot.pending.delete(answer.id);
      slot.failedStarts = 0;
      clearTimeout(pending.timer);
      pending.resolve(answer);
    };
    worker.onerror = (event: ErrorEvent) => {
      // Handled here: an error in a Worker must not end the server.
      event.preventDefault();
      this.#replace(slot, new VerdictWorkerError(`failed: ${event.message}`));
    };
    worker.onmessageerror = () => {
      this.#replace(slot, new VerdictWorkerError("sent an answer that could not be read"));
    };
    const setup: VerdictWorkerMessage = { kind: "setup", secrets: this.#options.secrets };
    worker.postMessage(setup);
    slot.worker = worker;
  }

  /** Ends `slot`'s Worker, failing its requests with `error`, and starts another. */
  #replace(slot: Slot, error: VerdictWorkerError): void {
    if (slot.worker === null) return;
    log.error("Verdict Worker replaced: the requests it held are answered with a block", {
      error: error.message,
      requests: slot.pending.size,
    });
    slot.worker.terminate();
    slot.worker = null;
    slot.ready = false;
    this.#failPending(slot, error);
    if (this.#closed) return;
    if (++slot.failedStarts > MAX_FAILED_STARTS) {
      log.error(
        "Verdict Worker not restarted: it failed each time; its share of verdicts is " +
          "decided by the other Workers or on the server's thread",
      );
      return;
    }
    this.#spawn(slot);
  }

  #failPending(slot: Slot, error: Error): void {
    for (const pending of slot.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    slot.pending.clear();
  }
}
