/**
 * Automatic left-to-right layout of a workflow graph, as MISP's editor draws it: the trigger on the
 * left, one column per depth, branches stacked in edge order. The MISP export and the web
 * console's SVG place nodes with it.
 *
 * @module
 */

import type { Workflow } from "./model.ts";

/** Horizontal distance between two columns, in editor pixels. */
export const LAYOUT_COLUMN_WIDTH = 400;

/** Vertical distance between two rows, in editor pixels. */
export const LAYOUT_ROW_HEIGHT = 200;

/** Where a node is drawn: editor coordinates plus its grid cell. */
export interface NodePlacement {
  x: number;
  y: number;
  /** 0 for the trigger, then the longest edge distance from it. */
  column: number;
  /** Position in its column, from the top. */
  row: number;
}

/**
 * Places every node: the column is the longest path from the trigger (so every edge points right),
 * rows follow a depth-first visit in edge order (then above else). Nodes the trigger cannot reach
 * go below, from column 1. Back edges of a cycle are ignored.
 */
export function layoutWorkflow(workflow: Workflow): Map<string, NodePlacement> {
  const byId = new Map(workflow.nodes.map((node) => [node.id, node]));
  const state = new Map<string, "open" | "done">();
  const finished: string[] = [];
  const preorder: string[] = [];
  const forwardEdges: [string, string][] = [];

  function visit(start: string): void {
    const stack: { id: string; targets: string[]; index: number }[] = [];
    const enter = (id: string) => {
      state.set(id, "open");
      preorder.push(id);
      stack.push({ id, targets: (byId.get(id)?.next ?? []).flat(), index: 0 });
    };
    enter(start);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as (typeof stack)[number];
      if (frame.index >= frame.targets.length) {
        state.set(frame.id, "done");
        finished.push(frame.id);
        stack.pop();
        continue;
      }
      const target = frame.targets[frame.index++] as string;
      if (!byId.has(target) || state.get(target) === "open") continue;
      forwardEdges.push([frame.id, target]);
      if (!state.has(target)) enter(target);
    }
  }

  const trigger = workflow.nodes.find((node) => node.kind === "trigger") ?? workflow.nodes[0];
  const depth = new Map<string, number>();
  if (trigger) {
    visit(trigger.id);
    depth.set(trigger.id, 0);
  }
  const reachable = new Set(state.keys());
  const hasIncoming = new Set(workflow.nodes.flatMap((node) => node.next.flat()));
  const rest = workflow.nodes.filter((node) => !reachable.has(node.id));
  for (const node of [...rest.filter((n) => !hasIncoming.has(n.id)), ...rest]) {
    if (state.has(node.id)) continue;
    visit(node.id);
    depth.set(node.id, 1);
  }

  const incoming = new Map<string, string[]>();
  for (const [from, to] of forwardEdges) incoming.set(to, [...(incoming.get(to) ?? []), from]);
  for (const id of finished.toReversed()) {
    for (const from of incoming.get(id) ?? []) {
      depth.set(id, Math.max(depth.get(id) ?? 0, (depth.get(from) ?? 0) + 1));
    }
  }

  const rowsUsed = new Map<number, number>();
  const placements = new Map<string, NodePlacement>();
  for (const id of preorder) {
    const column = depth.get(id) ?? 0;
    const row = rowsUsed.get(column) ?? 0;
    rowsUsed.set(column, row + 1);
    placements.set(id, {
      x: column * LAYOUT_COLUMN_WIDTH,
      y: row * LAYOUT_ROW_HEIGHT,
      column,
      row,
    });
  }
  return placements;
}
