/**
 * Runs as chat text: the trace as a readable path (node, module, status, branch, errors, the
 * values a condition saw), the deciding node and its reason, with TLP-marked content withheld
 * from chats not cleared for it.
 *
 * @module
 */

import type { TraceEntry } from "../engine/model.ts";
import { getRunInput } from "../store/runs.ts";
import type { RunRecord } from "../store/types.ts";
import type { Card, CardField } from "./cards.ts";
import { truncateText } from "./cards.ts";
import {
  classifyData,
  isCleared,
  type Marking,
  type TlpLevel,
  withheldNotice,
} from "../services/tlp.ts";

/** Longest rendering of one node's observed values. */
const MAX_OBSERVED_CHARS = 300;
/** Most trace lines in one message; longer traces end with a pointer to the API. */
const MAX_TRACE_LINES = 40;

/** How a run may be shown in one chat. */
export interface RunView {
  /** The run's markings. */
  marking: Marking;
  /** True when the chat is cleared for the run's TLP: event content and values may be shown. */
  cleared: boolean;
}

/** The event line of a run: its info and ids, or the withheld notice. */
export function eventLine(run: RunRecord, view: RunView): string {
  if (!run.event) return "none";
  if (!view.cleared) return withheldNotice(view.marking.tlp, run.id);
  const ids = [run.event.id ? `#${run.event.id}` : "", run.event.uuid ?? ""].filter(Boolean);
  return `${run.event.info ?? "(no info)"}${ids.length ? ` (${ids.join(" ")})` : ""}`;
}

/** The deciding node of a run as `id (module)`, or undefined when none decided. */
export function decidingLine(run: RunRecord): string | undefined {
  if (!run.deciding_node_id) return undefined;
  const entry = run.trace.find((item) => item.node_id === run.deciding_node_id);
  return entry ? `${entry.node_id} (${entry.module})` : run.deciding_node_id;
}

/** The reasons of a blocked or failed run, or the withheld notice. */
export function reasonLine(run: RunRecord, view: RunView): string {
  if (run.errors.length === 0) return "none given";
  if (!view.cleared) return withheldNotice(view.marking.tlp, run.id);
  return truncateText(run.errors.join("; "), 500);
}

/** One trace entry as one line: `2 tag-if check-tlp success → then saw {…}`. */
export function traceLine(entry: TraceEntry, view: RunView): string {
  const parts = [`${entry.seq}. ${entry.node_id} [${entry.module}] ${entry.status}`];
  if (entry.branch) parts.push(`→ ${entry.branch}`);
  if (entry.result !== undefined && entry.kind !== "logic") parts.push(`result ${entry.result}`);
  if (entry.observed && Object.keys(entry.observed).length > 0) {
    parts.push(
      view.cleared
        ? `saw ${truncateText(JSON.stringify(entry.observed), MAX_OBSERVED_CHARS)}`
        : "saw [withheld]",
    );
  }
  if (entry.errors.length > 0) {
    parts.push(view.cleared ? `error: ${truncateText(entry.errors.join("; "), 300)}` : "error");
  }
  if (entry.note) parts.push(`(${entry.note})`);
  return parts.join(" ");
}

/** The whole run as a card: summary fields and the path taken. */
export function runCard(run: RunRecord, view: RunView): Card {
  const fields: CardField[] = [
    { label: "Workflow", value: `${run.workflow_name} (v${run.workflow_version})` },
    { label: "Trigger", value: run.trigger },
    { label: "Outcome", value: `${run.outcome}${run.dry_run ? " (dry run)" : ""}` },
    { label: "Event", value: eventLine(run, view) },
    { label: "Started", value: `${run.started_at} by ${run.actor.kind}` },
    { label: "TLP / PAP", value: markingLine(view.marking) },
  ];
  const deciding = decidingLine(run);
  if (deciding) fields.push({ label: "Deciding node", value: deciding });
  if (!run.success) fields.push({ label: "Reason", value: reasonLine(run, view) });
  if (run.replay_of) fields.push({ label: "Replay of", value: `${run.replay_of} (${run.mode})` });
  const lines = run.trace.slice(0, MAX_TRACE_LINES).map((entry) => traceLine(entry, view));
  if (run.trace.length > MAX_TRACE_LINES) {
    lines.push(`… ${run.trace.length - MAX_TRACE_LINES} more: GET /api/runs/${run.id}`);
  }
  return {
    title: `Run ${run.id}`,
    fields,
    blocks: [{ kind: "code", text: lines.length > 0 ? lines.join("\n") : "(no node ran)" }],
    buttons: [],
  };
}

/** `TLP:RED / PAP:AMBER`, with `unmarked` for what is missing. */
export function markingLine(marking: Marking): string {
  const tlp = marking.tlp ? `TLP:${marking.tlp.toUpperCase()}` : "TLP unmarked";
  const pap = marking.pap ? `PAP:${marking.pap}` : "PAP unmarked";
  return `${tlp} / ${pap}`;
}

/**
 * How a run may be shown in a chat whose ceiling is `chatMax`. A run whose input is gone cannot
 * be classified, so only a chat cleared for red sees its content.
 */
export async function loadRunView(
  kv: Deno.Kv,
  runId: string,
  chatMax: TlpLevel,
): Promise<RunView> {
  const input = await getRunInput(kv, runId);
  if (input === null) return { marking: {}, cleared: chatMax === "red" };
  const marking = classifyData(input);
  return { marking, cleared: isCleared(marking.tlp, chatMax) };
}
