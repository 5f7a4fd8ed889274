/**
 * The node-by-node difference between a run and its replay: decisions that changed, actions that
 * would now run or no longer run, and the new outcome. Nodes are matched by id and visit number
 * (a node reached by two paths is visited twice), so a changed edge or param shows up at the node
 * it affects.
 *
 * @module
 */

import type { ActionRecord, Outcome, TraceEntry, TraceStatus } from "./model.ts";

/** What a diff needs of a run: its outcome, deciding node and trace. */
export interface DiffableRun {
  outcome: Outcome;
  "deciding_node_id"?: string;
  trace: TraceEntry[];
}

/** How one node's visit differs. */
export type NodeChange =
  /** Visited in the replay only: an action that would now run, a condition now evaluated. */
  | "now-runs"
  /** Visited in the original only. */
  | "no-longer-runs"
  /** A logic node took another branch or returned another result. */
  | "decision"
  /** Same decision, but the node now succeeds, fails or is skipped differently. */
  | "status"
  /** The node did (or would do) other things: another URL, body, recipient… */
  | "actions";

/** A node visit as the diff shows it. */
export interface NodeVisit {
  status: TraceStatus;
  branch?: string;
  result?: boolean;
  errors: string[];
  /** One line per action performed or recorded. */
  actions: string[];
}

/** One node whose visit differs. */
export interface NodeDiff {
  "node_id": string;
  module: string;
  /** 1 for the first visit of the node, 2 for the second… */
  visit: number;
  change: NodeChange;
  before?: NodeVisit;
  after?: NodeVisit;
}

/** The difference between a run and its replay. */
export interface RunDiff {
  /** True when anything differs. */
  changed: boolean;
  outcome: { before: Outcome; after: Outcome; changed: boolean };
  "deciding_node": { before?: string; after?: string; changed: boolean };
  /** Nodes whose visit differs, in the order of the replay, then nodes only the original visited. */
  nodes: NodeDiff[];
  /** Nodes whose visit is the same. */
  unchanged: number;
}

/** Compares `original` and `replay` node by node. */
export function diffRuns(original: DiffableRun, replay: DiffableRun): RunDiff {
  const before = visitsOf(original.trace);
  const nodes: NodeDiff[] = [];
  let unchanged = 0;
  for (const [key, entry] of visitsOf(replay.trace)) {
    const previous = before.get(key);
    before.delete(key);
    const after = visitOf(entry);
    const base = { node_id: entry.node_id, module: entry.module, visit: visitNumber(key) };
    if (previous === undefined) {
      nodes.push({ ...base, change: "now-runs", after });
      continue;
    }
    const earlier = visitOf(previous);
    const change = compareVisits(earlier, after);
    if (change === null) unchanged++;
    else nodes.push({ ...base, module: entry.module, change, before: earlier, after });
  }
  for (const [key, entry] of before) {
    nodes.push({
      node_id: entry.node_id,
      module: entry.module,
      visit: visitNumber(key),
      change: "no-longer-runs",
      before: visitOf(entry),
    });
  }
  const outcomeChanged = original.outcome !== replay.outcome;
  const decidingChanged = original.deciding_node_id !== replay.deciding_node_id;
  return {
    changed: outcomeChanged || decidingChanged || nodes.length > 0,
    outcome: { before: original.outcome, after: replay.outcome, changed: outcomeChanged },
    deciding_node: {
      ...(original.deciding_node_id === undefined ? {} : { before: original.deciding_node_id }),
      ...(replay.deciding_node_id === undefined ? {} : { after: replay.deciding_node_id }),
      changed: decidingChanged,
    },
    nodes,
    unchanged,
  };
}

/** One line per node diff, for the CLI and chat: `tag-if "is-amber": decision then → else`. */
export function describeNodeDiff(diff: NodeDiff): string {
  const name = `${diff.module} "${diff.node_id}"${diff.visit > 1 ? ` (visit ${diff.visit})` : ""}`;
  switch (diff.change) {
    case "now-runs":
      return `${name}: now runs${actionsText(diff.after)}`;
    case "no-longer-runs":
      return `${name}: no longer runs${actionsText(diff.before)}`;
    case "decision":
      return `${name}: decision ${decisionText(diff.before)} → ${decisionText(diff.after)}`;
    case "status":
      return `${name}: ${diff.before?.status} → ${diff.after?.status}`;
    case "actions":
      return `${name}: actions changed${actionsText(diff.after)}`;
  }
}

function visitsOf(trace: TraceEntry[]): Map<string, TraceEntry> {
  const counts = new Map<string, number>();
  const visits = new Map<string, TraceEntry>();
  for (const entry of trace) {
    const count = (counts.get(entry.node_id) ?? 0) + 1;
    counts.set(entry.node_id, count);
    visits.set(`${entry.node_id}#${count}`, entry);
  }
  return visits;
}

function visitNumber(key: string): number {
  return Number(key.slice(key.lastIndexOf("#") + 1));
}

function visitOf(entry: TraceEntry): NodeVisit {
  const visit: NodeVisit = {
    status: entry.status,
    errors: entry.errors,
    actions: (entry.actions ?? []).map(actionLine),
  };
  if (entry.branch !== undefined) visit.branch = entry.branch;
  if (entry.result !== undefined) visit.result = entry.result;
  return visit;
}

/** An action without its dry flag: a dry replay that would do what the original did is the same. */
function actionLine(action: ActionRecord): string {
  const target = [action.method, action.url].filter((part) => part !== undefined).join(" ");
  const digest = action.body_digest ? ` #${action.body_digest.slice(0, 12)}` : "";
  return `${action.kind}: ${target === "" ? action.summary : target}${digest}`;
}

function compareVisits(before: NodeVisit, after: NodeVisit): NodeChange | null {
  if (before.branch !== after.branch || before.result !== after.result) return "decision";
  if (before.status !== after.status) return "status";
  if (before.actions.join("\n") !== after.actions.join("\n")) return "actions";
  return null;
}

function decisionText(visit: NodeVisit | undefined): string {
  if (visit === undefined) return "none";
  return visit.branch ?? (visit.result === undefined ? visit.status : String(visit.result));
}

function actionsText(visit: NodeVisit | undefined): string {
  return visit && visit.actions.length > 0 ? ` (${visit.actions.join("; ")})` : "";
}
