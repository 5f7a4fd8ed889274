/**
 * Renders a run as text for humans: the verdict, then the trace as a tree following the path
 * taken, with the branch of every logic node and what every action did or would do.
 *
 * @module
 */

import type { RunResult, TraceEntry } from "../engine/model.ts";

const STATUS_MARK: Record<TraceEntry["status"], string> = {
  success: "ok",
  failure: "FAILED",
  skipped: "skipped",
  guarded: "guarded",
};

/** One line saying what a blocking caller would be told. */
export function formatVerdict(result: RunResult): string {
  const decider = result.deciding_node_id !== undefined
    ? result.trace.find((entry) => entry.node_id === result.deciding_node_id)
    : undefined;
  const by = decider ? ` by node "${decider.node_id}" (${decider.module})` : "";
  const reasons = result.errors.length > 0 ? `: ${result.errors.join(" | ")}` : "";
  if (result.outcome === "success") {
    return `Verdict: ALLOWED (outcome success)${reasons ? ` with errors${reasons}` : ""}`;
  }
  if (result.outcome === "blocked") return `Verdict: BLOCKED${by}${reasons}`;
  return `Verdict: ${result.outcome.toUpperCase()}${by}${reasons}`;
}

function describeEntry(entry: TraceEntry): string {
  const parts = [`${entry.node_id} (${entry.module})`, STATUS_MARK[entry.status]];
  if (entry.branch !== undefined) parts.push(`→ ${entry.branch}`);
  return parts.join(" ");
}

/** The trace as an indented tree (depth = edges from the start node), one node per line. */
export function formatTraceTree(trace: TraceEntry[]): string[] {
  const lines: string[] = [];
  const base = trace.reduce((depth, entry) => Math.min(depth, entry.path.length), Infinity);
  for (const entry of trace) {
    const indent = "  ".repeat(entry.path.length - (Number.isFinite(base) ? base : 0));
    lines.push(`${indent}${describeEntry(entry)}`);
    const detail = `${indent}    `;
    if (entry.observed) lines.push(`${detail}looked at: ${JSON.stringify(entry.observed)}`);
    for (const action of entry.actions ?? []) {
      lines.push(`${detail}${action.dry ? "would do" : "did"}: ${action.summary}`);
    }
    for (const error of entry.errors) lines.push(`${detail}error: ${error}`);
    if (entry.note !== undefined) lines.push(`${detail}note: ${entry.note}`);
  }
  return lines;
}
