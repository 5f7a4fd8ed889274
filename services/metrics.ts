/**
 * In-process metrics rendered as Prometheus text: runs by trigger and outcome, the verdict latency
 * histogram, runs that could not be stored, queue work and dead letters. Gauges of durable state
 * (queue depth, dead letters) are read from KV at scrape time, so they are right after a restart.
 *
 * @module
 */

/** Upper bounds of the verdict latency histogram, in seconds. */
export const VERDICT_BUCKETS_S = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** Gauges read at scrape time (KV counts, proxy state). */
export interface MetricsSnapshot {
  deadLetters: number;
  workflowsEnabled: number;
  /**
   * Queue work accepted and not finished, from KV (`countQueueDepth`). When absent, the gauge
   * falls back to this process's own count, which knows nothing of earlier processes.
   */
  queueDepth?: number;
}

/** Counters and histograms of one Flowgate process. */
export class Metrics {
  #runs = new Map<string, number>();
  #verdicts = new Map<string, number>();
  #buckets = new Array<number>(VERDICT_BUCKETS_S.length).fill(0);
  #latencySum = 0;
  #latencyCount = 0;
  #queuePending = 0;
  #queueHandled = new Map<string, number>();
  #intakes = 0;
  #duplicates = 0;
  #storeFailures = new Map<string, number>();
  #offThread = new Map<string, number>();

  /** Counts one finished run. */
  recordRun(trigger: string, outcome: string): void {
    const key = `trigger="${escapeLabel(trigger)}",outcome="${escapeLabel(outcome)}"`;
    this.#runs.set(key, (this.#runs.get(key) ?? 0) + 1);
  }

  /** Observes one verdict's latency and its answer (`allow` or `block`). */
  recordVerdict(trigger: string, allowed: boolean, milliseconds: number): void {
    const key = `trigger="${escapeLabel(trigger)}",verdict="${allowed ? "allow" : "block"}"`;
    this.#verdicts.set(key, (this.#verdicts.get(key) ?? 0) + 1);
    const seconds = milliseconds / 1_000;
    for (let i = 0; i < VERDICT_BUCKETS_S.length; i++) {
      if (seconds <= VERDICT_BUCKETS_S[i]!) this.#buckets[i]!++;
    }
    this.#latencySum += seconds;
    this.#latencyCount++;
  }

  /** Counts runs that could not be stored (their verdict or queue work went on without them). */
  recordRunStoreFailure(trigger: string, runs = 1): void {
    const key = `trigger="${escapeLabel(trigger)}"`;
    this.#storeFailures.set(key, (this.#storeFailures.get(key) ?? 0) + runs);
  }

  /**
   * Counts a `/query` handed to a verdict Worker by how it ended: `decided`, or why this thread
   * decided instead (`main-thread`: a workflow needs its services; `unparsed`; `not-object`;
   * `failed`).
   */
  recordOffThreadVerdict(outcome: string): void {
    this.#offThread.set(outcome, (this.#offThread.get(outcome) ?? 0) + 1);
  }

  /** Counts a webhook intake, or a resend answered from the de-duplication window. */
  recordIntake(duplicate: boolean): void {
    if (duplicate) this.#duplicates++;
    else this.#intakes++;
  }

  /** Counts queue messages enqueued by this process and not yet handled. */
  queueEnqueued(count = 1): void {
    this.#queuePending += count;
  }

  /** Queue work (intakes, jobs) enqueued by this process and not handled yet, as it knows it. */
  get queuePending(): number {
    return this.#queuePending;
  }

  /** Counts one handled queue message of a kind (`intake`, `deferred`, `retry`). */
  queueHandled(kind: string): void {
    this.#queuePending = Math.max(0, this.#queuePending - 1);
    this.#queueHandled.set(kind, (this.#queueHandled.get(kind) ?? 0) + 1);
  }

  /** The Prometheus text exposition (version 0.0.4). */
  render(snapshot: MetricsSnapshot): string {
    const lines: string[] = [];
    const family = (name: string, type: string, help: string) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    family("flowgate_runs_total", "counter", "Workflow runs by trigger and outcome");
    for (const [labels, value] of this.#runs) lines.push(`flowgate_runs_total{${labels}} ${value}`);
    family("flowgate_verdicts_total", "counter", "Verdicts answered on /query");
    for (const [labels, value] of this.#verdicts) {
      lines.push(`flowgate_verdicts_total{${labels}} ${value}`);
    }
    family("flowgate_verdict_latency_seconds", "histogram", "Server-side verdict latency");
    VERDICT_BUCKETS_S.forEach((bound, i) => {
      lines.push(`flowgate_verdict_latency_seconds_bucket{le="${bound}"} ${this.#buckets[i]}`);
    });
    lines.push(`flowgate_verdict_latency_seconds_bucket{le="+Inf"} ${this.#latencyCount}`);
    lines.push(`flowgate_verdict_latency_seconds_sum ${this.#latencySum}`);
    lines.push(`flowgate_verdict_latency_seconds_count ${this.#latencyCount}`);
    family(
      "flowgate_run_store_failures_total",
      "counter",
      "Runs that could not be stored; their verdict was answered all the same",
    );
    for (const [labels, value] of this.#storeFailures) {
      lines.push(`flowgate_run_store_failures_total{${labels}} ${value}`);
    }
    family(
      "flowgate_verdict_worker_requests_total",
      "counter",
      "Verdicts handed to a verdict Worker, by how they ended",
    );
    for (const [outcome, value] of this.#offThread) {
      lines.push(
        `flowgate_verdict_worker_requests_total{outcome="${escapeLabel(outcome)}"} ${value}`,
      );
    }
    family("flowgate_webhook_intakes_total", "counter", "Webhooks accepted durably");
    lines.push(`flowgate_webhook_intakes_total ${this.#intakes}`);
    family("flowgate_webhook_duplicates_total", "counter", "Webhook resends de-duplicated");
    lines.push(`flowgate_webhook_duplicates_total ${this.#duplicates}`);
    family("flowgate_queue_depth", "gauge", "Queue work accepted and not finished yet");
    lines.push(`flowgate_queue_depth ${snapshot.queueDepth ?? this.#queuePending}`);
    family("flowgate_queue_handled_total", "counter", "Queue messages handled by kind");
    for (const [kind, value] of this.#queueHandled) {
      lines.push(`flowgate_queue_handled_total{kind="${escapeLabel(kind)}"} ${value}`);
    }
    family("flowgate_dead_letters", "gauge", "Queue work given up on, waiting in the dead letters");
    lines.push(`flowgate_dead_letters ${snapshot.deadLetters}`);
    family("flowgate_workflows_enabled", "gauge", "Enabled workflows");
    lines.push(`flowgate_workflows_enabled ${snapshot.workflowsEnabled}`);
    return lines.join("\n") + "\n";
  }
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}
