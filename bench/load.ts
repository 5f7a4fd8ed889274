/**
 * Load generation for the HTTP benchmark, alternating between targets so that they share the
 * machine's conditions: concurrent work runs in short bursts, one target after another, round
 * after round (the order rotating each round); sequential requests alternate one by one. What
 * each target got is summed over its bursts.
 *
 * @module
 */

/** One benchmarked server. */
export interface LoadTarget {
  name: string;
  url: string;
  pid: number;
}

/** Sends one request to a target; throws when the answer is wrong. */
export type SendRequest = (target: LoadTarget, index: number) => Promise<void>;

/** What one target got under a load. */
export interface LoadResult {
  requests: number;
  /** Wall time of the target's bursts together, in milliseconds. */
  wallMs: number;
  /** Latency of every request, in milliseconds, sorted. */
  latencies: number[];
  /** Time spent after the bursts in `BurstOptions.drain` (work left over), in milliseconds. */
  drainMs: number;
}

/** Requests per second of a result. */
export function throughput(result: LoadResult): number {
  return result.requests / (result.wallMs / 1_000);
}

/** The `p`th percentile (nearest rank) of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}

/** Requests per second counting the drain too: the rate the target keeps up under a long load. */
export function sustainedThroughput(result: LoadResult): number {
  return result.requests / ((result.wallMs + result.drainMs) / 1_000);
}

/** Runs `total` calls of `task` with `concurrency` callers; returns the wall time in ms. */
export async function runConcurrent(
  total: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, async () => {
    while (next < total) await task(next++);
  }));
  return performance.now() - started;
}

/** Options of `alternateBursts`. */
export interface BurstOptions {
  rounds: number;
  /** Requests per target per round. */
  perRound: number;
  concurrency: number;
  send: SendRequest;
  /**
   * Waits, after each burst, until the target finished the work the burst left (queued runs), so
   * the next target's burst does not pay for it; the wait is summed in `drainMs`, not `wallMs`.
   */
  drain?: (target: LoadTarget) => Promise<void>;
}

/**
 * `rounds` rounds; in each, every target in turn (order rotating) gets `perRound` requests at
 * `concurrency`. Resolves with each target's summed result.
 */
export async function alternateBursts(
  targets: readonly LoadTarget[],
  options: BurstOptions,
): Promise<Map<string, LoadResult>> {
  const results = new Map<string, LoadResult>(
    targets.map((target) => [target.name, { requests: 0, wallMs: 0, latencies: [], drainMs: 0 }]),
  );
  let sent = 0;
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < targets.length; k++) {
      const target = targets[(round + k) % targets.length]!;
      const result = results.get(target.name)!;
      result.wallMs += await runConcurrent(options.perRound, options.concurrency, async () => {
        const started = performance.now();
        await options.send(target, sent++);
        result.latencies.push(performance.now() - started);
      });
      result.requests += options.perRound;
      if (options.drain) {
        const drainStarted = performance.now();
        await options.drain(target);
        result.drainMs += performance.now() - drainStarted;
      }
    }
  }
  for (const result of results.values()) result.latencies.sort((a, b) => a - b);
  return results;
}

/** `requests` sequential requests per target, one target after another, request by request. */
export async function alternateSequential(
  targets: readonly LoadTarget[],
  requests: number,
  send: SendRequest,
): Promise<Map<string, LoadResult>> {
  const results = new Map<string, LoadResult>(
    targets.map((target) => [target.name, { requests: 0, wallMs: 0, latencies: [], drainMs: 0 }]),
  );
  for (let i = 0; i < requests; i++) {
    for (let k = 0; k < targets.length; k++) {
      const target = targets[(i + k) % targets.length]!;
      const result = results.get(target.name)!;
      const started = performance.now();
      await send(target, i);
      const took = performance.now() - started;
      result.latencies.push(took);
      result.wallMs += took;
      result.requests++;
    }
  }
  for (const result of results.values()) result.latencies.sort((a, b) => a - b);
  return results;
}
