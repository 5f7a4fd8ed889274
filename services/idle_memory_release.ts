/**
 * Gives memory back once a burst of work is over. V8 keeps the heap it grew to under load (a
 * burst of 10,000-attribute events left a Flowgate at over 300 MiB for good), and Deno runs no
 * idle collection that would shrink it. So once the process has been idle a moment with its
 * resident memory well above what it last came back to, one full collection runs, which returns
 * the pages to the system, and then glibc's heap is trimmed of the request bodies that collection
 * freed (`native_heap_trim.ts`). It never runs while work is under way, and not at all where
 * neither V8's `gc` nor glibc's trim can be reached.
 *
 * @module
 */

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { log } from "../engine/log.ts";
import { nativeHeapTrim } from "./native_heap_trim.ts";

/** V8's `gc` once exposed (null: the runtime refused; undefined: not tried yet). */
let exposedGc: (() => void) | null | undefined;

/** How much resident memory must have grown since the last collection for another one. */
const GROWTH_BYTES = 16 * 1_048_576;

/** Options of `IdleMemoryRelease`. */
export interface IdleMemoryReleaseOptions {
  /** How long the process must stay idle before collecting, in milliseconds. */
  idleMs: number;
  /** Resident bytes below which no collection is worth running. */
  minRssBytes: number;
  /**
   * Runs a full collection and gives the freed memory back (default: V8's `gc`, exposed once, then
   * glibc's `malloc_trim` where granted; tests pass their own).
   */
  collect?: () => void;
  /** The process's resident bytes (default `Deno.memoryUsage().rss`; tests pass their own). */
  rss?: () => number;
}

/**
 * Counts the work under way and collects once the process went idle with its memory grown: above
 * `minRssBytes`, and `GROWTH_BYTES` above what the last collection came back to.
 */
export class IdleMemoryRelease {
  readonly #options: IdleMemoryReleaseOptions;
  readonly #collect: (() => void) | undefined;
  readonly #rss: () => number;
  #active = 0;
  #settledRss = 0;
  #timer: number | undefined;

  /** Starts with no work under way. */
  constructor(options: IdleMemoryReleaseOptions) {
    this.#options = options;
    this.#collect = options.collect ?? processCollector();
    this.#rss = options.rss ?? (() => Deno.memoryUsage().rss);
  }

  /** True when a collector was found (V8's, or the one given). */
  get collects(): boolean {
    return this.#collect !== undefined;
  }

  /** True while the idle wait runs, at whose end a collection may follow. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** Work started: the idle wait starts again once all work has ended. */
  begin(): void {
    this.#active++;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Work begun with `begin` finished; call it once per `begin`. */
  end(): void {
    this.#active = Math.max(0, this.#active - 1);
    if (this.#active > 0 || this.#collect === undefined) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    // Deno's timer id (the `node:` imports make TypeScript see Node's `Timeout` type).
    const timer = setTimeout(
      () => this.#collectIfGrown(),
      this.#options.idleMs,
    ) as unknown as number;
    // A pending collection must not keep the process alive at shutdown.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #collectIfGrown(): void {
    this.#timer = undefined;
    const rss = this.#rss();
    if (rss <= this.#options.minRssBytes || rss <= this.#settledRss + GROWTH_BYTES) return;
    try {
      this.#collect!();
    } catch (error) {
      log.warn("Idle memory collection failed", { error: String(error) });
    }
    this.#settledRss = this.#rss();
  }
}

/**
 * The process's release: the heap is one per process, so the routes and the queue that handle
 * MISP data all report to this one. A collection follows three idle seconds with more than
 * 160 MiB resident (an idle Flowgate holds about 115 MiB). It takes up to a few hundred
 * milliseconds on a large heap, which only a request arriving in that moment waits for; a
 * sustained load leaves no idle seconds and never pays it. A burst after a pause pays for the
 * memory given back (page faults, a heap grown again: 10% of the 10,000-attribute rate at c=50
 * in the benchmark); waiting ten seconds instead spared that, but each burst then started on the
 * last one's heap and the peak at 10k c=50 rose from 385-451 MiB to 437-521 MiB.
 */
export const processMemory: IdleMemoryRelease = new IdleMemoryRelease({
  idleMs: 3_000,
  minRssBytes: 160 * 1_048_576,
});

/** V8's collection then glibc's trim, those of them this runtime has; undefined if neither. */
function processCollector(): (() => void) | undefined {
  const gc = heapCollector();
  const trim = nativeHeapTrim();
  if (gc === undefined && trim === undefined) return undefined;
  return () => {
    gc?.();
    trim?.();
  };
}

/** V8's `gc` options for a synchronous collection that also compacts the heap. */
const LAST_RESORT_GC = { type: "major", execution: "sync", flavor: "last-resort" };

/**
 * V8's full collection of the calling thread's heap (exposed once per thread); undefined where
 * the runtime refuses. A Worker collects its own heap with it.
 */
export function heapCollector(): (() => void) | undefined {
  if (exposedGc === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      const gc: unknown = runInNewContext("gc");
      // The last-resort flavour compacts too, which gives about 40 MiB more back than a plain
      // major collection after a burst of 10,000-attribute events.
      exposedGc = typeof gc === "function"
        ? () => (gc as (options: unknown) => void)(LAST_RESORT_GC)
        : null;
    } catch {
      exposedGc = null;
    }
  }
  return exposedGc ?? undefined;
}
