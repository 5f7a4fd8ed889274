/**
 * A workflow graph as inline SVG, left to right as MISP's editor draws it: nodes shaped and
 * coloured by kind, `then`/`else` edges labelled, blocking modules marked, and optionally a run's
 * trace drawn on it (visited nodes and taken edges highlighted, the deciding node marked).
 * The drawing scales to the page width through its `viewBox`; zoom links (CSS `:target`, no
 * script) show it at its actual size or larger, in a box that scrolls to pan.
 *
 * @module
 */

import type { Child } from "hono/jsx";
import type { JSX } from "hono/jsx/jsx-runtime";
import { layoutWorkflow } from "../../engine/layout.ts";
import type { ModuleCatalog, TraceEntry, Workflow, WorkflowNode } from "../../engine/model.ts";

/** Horizontal distance between columns, in SVG pixels. */
export const GRAPH_COLUMN_WIDTH = 240;
/** Vertical distance between rows, in SVG pixels. */
export const GRAPH_ROW_HEIGHT = 100;
const NODE_WIDTH = 184;
const NODE_HEIGHT = 76;
const PADDING = 16;
/** Characters per label line, and label lines per node; the rest is cut with `…`. */
export const LABEL_LINE_CHARS = 24;
export const LABEL_LINES = 2;
const SUB_CHARS = 30;

/** A run's trace to draw on the graph. */
export interface GraphTrace {
  entries: TraceEntry[];
  decidingNodeId?: string;
}

/** Props of `WorkflowGraph`. */
export interface WorkflowGraphProps {
  workflow: Workflow;
  catalog: ModuleCatalog;
  trace?: GraphTrace;
}

interface Point {
  x: number;
  y: number;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Breaks a label into at most `lines` lines of `width` characters, at spaces where it can (a word
 * longer than a line is split), the last line cut with `…` when text is left over.
 */
export function wrapLabel(text: string, width = LABEL_LINE_CHARS, lines = LABEL_LINES): string[] {
  const out: string[] = [];
  let rest = text.trim().replace(/\s+/g, " ");
  while (rest !== "" && out.length < lines) {
    if (out.length === lines - 1 || rest.length <= width) {
      out.push(clip(rest, width));
      break;
    }
    const space = rest.lastIndexOf(" ", width);
    const cut = space > 0 ? space : width;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut).trimStart();
  }
  return out;
}

/** The output a trace entry left through (0 = then/next, 1 = else), or undefined for none. */
function takenOutput(entry: TraceEntry): number | undefined {
  if (entry.status === "skipped" || entry.status === "guarded") return undefined;
  if (entry.branch === "then" || entry.branch === "next") return 0;
  if (entry.branch === "else") return 1;
  return undefined;
}

function edgeLabel(node: WorkflowNode, output: number, catalog: ModuleCatalog): string | undefined {
  const descriptor = catalog.describe(node.module);
  const outputs = descriptor?.outputs ?? node.next.length;
  if (descriptor?.html_template === "if" || (outputs === 2 && node.kind === "logic")) {
    return output === 0 ? "then" : "else";
  }
  return undefined;
}

function NodeShape(props: { kind: WorkflowNode["kind"]; at: Point }): JSX.Element {
  const { x, y } = props.at;
  if (props.kind === "logic") {
    const inset = 14;
    const points = [
      [x + inset, y],
      [x + NODE_WIDTH - inset, y],
      [x + NODE_WIDTH, y + NODE_HEIGHT / 2],
      [x + NODE_WIDTH - inset, y + NODE_HEIGHT],
      [x + inset, y + NODE_HEIGHT],
      [x, y + NODE_HEIGHT / 2],
    ].map(([px, py]) => `${px},${py}`).join(" ");
    return <polygon class="shape" points={points} />;
  }
  const radius = props.kind === "trigger" ? NODE_HEIGHT / 2 : 6;
  return (
    <rect
      class="shape"
      x={x}
      y={y}
      width={NODE_WIDTH}
      height={NODE_HEIGHT}
      rx={radius}
      ry={radius}
    />
  );
}

/**
 * The workflow graph as an `<svg>` fitted to the page width, with zoom links (fit, actual size,
 * larger) that work without script, inside a box that scrolls to pan, and a legend.
 */
export function WorkflowGraph(props: WorkflowGraphProps): JSX.Element {
  const { workflow, catalog, trace } = props;
  const placements = layoutWorkflow(workflow);
  const at = new Map<string, Point>();
  let width = 0;
  let height = 0;
  for (const node of workflow.nodes) {
    const place = placements.get(node.id) ?? { column: 0, row: 0 };
    const point = {
      x: PADDING + place.column * GRAPH_COLUMN_WIDTH,
      y: PADDING + place.row * GRAPH_ROW_HEIGHT,
    };
    at.set(node.id, point);
    width = Math.max(width, point.x + NODE_WIDTH + PADDING);
    height = Math.max(height, point.y + NODE_HEIGHT + PADDING);
  }
  const visits = new Map<string, TraceEntry>();
  for (const entry of trace?.entries ?? []) visits.set(entry.node_id, entry);

  const edges: Child[] = [];
  for (const node of workflow.nodes) {
    const from = at.get(node.id);
    if (!from) continue;
    const outputs = Math.max(node.next.length, catalog.describe(node.module)?.outputs ?? 1);
    const taken = visits.has(node.id) ? takenOutput(visits.get(node.id)!) : undefined;
    node.next.forEach((targets, output) => {
      const label = edgeLabel(node, output, catalog);
      for (const target of targets) {
        const to = at.get(target);
        if (!to) continue;
        const start = {
          x: from.x + NODE_WIDTH,
          y: from.y + (NODE_HEIGHT * (output + 1)) / (outputs + 1),
        };
        const end = { x: to.x, y: to.y + NODE_HEIGHT / 2 };
        const bend = Math.max(40, Math.abs(end.x - start.x) / 2);
        const d = `M${start.x},${start.y} C${start.x + bend},${start.y} ${end.x - bend},${end.y} ` +
          `${end.x},${end.y}`;
        const isTaken = taken === output && visits.has(target);
        edges.push(
          <g
            class={isTaken ? "edge taken" : "edge"}
            data-from={node.id}
            data-to={target}
            data-output={String(output + 1)}
          >
            <path d={d} marker-end="url(#flowgate-arrow)" />
            {label && <text x={start.x + 6} y={start.y - 5}>{label}</text>}
          </g>,
        );
      }
    });
  }

  const nodes = workflow.nodes.map((node) => {
    const point = at.get(node.id)!;
    const descriptor = catalog.describe(node.module);
    const visit = visits.get(node.id);
    const deciding = trace?.decidingNodeId === node.id;
    const blocking = descriptor?.blocking === true;
    const classes = ["node", `node-${node.kind}`];
    if (blocking) classes.push("blocking");
    if (trace) classes.push(visit ? "visited" : "faded");
    if (deciding) classes.push("deciding");
    const label = node.label ?? descriptor?.name ?? node.module;
    const marks: string[] = [];
    if (deciding) marks.push("◆ deciding");
    else if (visit) {
      marks.push(
        `${visit.status === "failure" ? "✗" : "✓"} ${visit.branch ?? visit.status}`,
      );
    }
    if (blocking) marks.push("▲ blocking");
    const title = [
      `${label} (${node.module})`,
      `node ${node.id}`,
      blocking
        ? node.kind === "trigger"
          ? "blocking trigger: MISP waits for the verdict"
          : "blocking module: can stop the workflow"
        : "",
      visit
        ? `visited #${visit.seq}: ${visit.status}${visit.branch ? `, ${visit.branch}` : ""}`
        : "",
      ...(visit?.errors ?? []),
    ].filter((line) => line !== "").join("\n");
    // Text starts clear of the rounded trigger's and the hexagon's slanted sides.
    const inset = node.kind === "trigger" ? 26 : node.kind === "logic" ? 20 : 14;
    const body = (
      <>
        <title>{title}</title>
        <NodeShape kind={node.kind} at={point} />
        <text x={point.x + inset} y={point.y + 20}>
          {wrapLabel(label, node.kind === "action" ? LABEL_LINE_CHARS : LABEL_LINE_CHARS - 2)
            .map((line, index) => (
              <tspan x={point.x + inset} dy={index === 0 ? 0 : 15}>{line}</tspan>
            ))}
        </text>
        <text class="sub" x={point.x + inset} y={point.y + 52}>
          {clip(`${node.id} · ${node.module}`, SUB_CHARS)}
        </text>
        {marks.length > 0 && (
          <text
            class={deciding ? "sub deciding-mark" : blocking ? "sub blocking-mark" : "sub"}
            x={point.x + inset}
            y={point.y + 67}
          >
            {marks.join("  ")}
          </text>
        )}
      </>
    );
    return (
      <g class={classes.join(" ")} data-node={node.id}>
        {visit ? <a href={`#trace-${visit.seq}`}>{body}</a> : body}
      </g>
    );
  });

  const columns = new Set([...placements.values()].map((place) => place.column)).size;
  return (
    <figure class="graph-figure" id="graph">
      <span class="zoom-anchor" id="graph-actual" />
      <span class="zoom-anchor" id="graph-large" />
      <nav class="zoom-links" aria-label="Graph zoom">
        <span class="muted">
          {`${workflow.nodes.length} node${workflow.nodes.length === 1 ? "" : "s"} in ${columns} ` +
            `column${columns === 1 ? "" : "s"}. Zoom:`}
        </span>
        <a class="fit" href="#graph">Fit width</a>
        <a class="actual" href="#graph-actual">Actual size</a>
        <a class="large" href="#graph-large">Large</a>
        <span class="muted">(scroll the box to pan)</span>
      </nav>
      <div class="graph">
        <svg
          xmlns="http://www.w3.org/2000/svg"
          viewBox={`0 0 ${width} ${height}`}
          width={width}
          height={height}
          preserveAspectRatio="xMinYMin meet"
          data-fit="width"
          role="img"
          aria-label={`Graph of workflow ${workflow.name}`}
        >
          <defs>
            <marker
              id="flowgate-arrow"
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerUnits="userSpaceOnUse"
              markerWidth="9"
              markerHeight="9"
              orient="auto-start-reverse"
            >
              <path d="M0,0 L10,5 L0,10 z" class="arrow" fill="#8b949e" />
            </marker>
          </defs>
          {edges}
          {nodes}
        </svg>
      </div>
      <figcaption class="legend">
        <span>▭ rounded: trigger</span>
        <span>⬡ hexagon: logic</span>
        <span>▭ square: action</span>
        <span>▲ dashed red border: blocking</span>
        {trace && <span>blue: path taken · red: deciding node</span>}
      </figcaption>
    </figure>
  );
}
