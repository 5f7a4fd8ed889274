/**
 * One-line descriptions of what changed between two versions of a workflow, for version history.
 *
 * @module
 */

import { isDeepStrictEqual } from "node:util";
import type { Workflow, WorkflowNode } from "../engine/model.ts";

/** Most changes a description lists before it says "and N more". */
const MAX_LISTED_CHANGES = 5;

/**
 * Describes in one line what changed from `previous` to `next` ("created" when there is no
 * previous version), so the history reads like a changelog.
 */
export function describeWorkflowChange(previous: Workflow | undefined, next: Workflow): string {
  if (!previous) return "created";
  const changes: string[] = [];
  if (previous.name !== next.name) {
    changes.push(`renamed from "${previous.name}" to "${next.name}"`);
  }
  if (previous.enabled !== next.enabled) changes.push(next.enabled ? "enabled" : "disabled");
  if (previous.trigger !== next.trigger) {
    changes.push(`trigger changed from "${previous.trigger}" to "${next.trigger}"`);
  }
  if (previous.order !== next.order) {
    changes.push(`order changed from ${previous.order} to ${next.order}`);
  }
  if (previous.on_timeout !== next.on_timeout) {
    changes.push(`on_timeout changed from "${previous.on_timeout}" to "${next.on_timeout}"`);
  }
  if (previous.description !== next.description) changes.push("description changed");
  changes.push(...describeNodeChanges(previous.nodes, next.nodes));
  if (changes.length === 0) return "no changes";
  if (changes.length <= MAX_LISTED_CHANGES + 1) return changes.join("; ");
  const rest = changes.length - MAX_LISTED_CHANGES;
  return `${changes.slice(0, MAX_LISTED_CHANGES).join("; ")} and ${rest} more changes`;
}

function describeNodeChanges(previous: WorkflowNode[], next: WorkflowNode[]): string[] {
  const before = new Map(previous.map((node) => [node.id, node]));
  const after = new Map(next.map((node) => [node.id, node]));
  const changes: string[] = [];
  for (const node of next) {
    const old = before.get(node.id);
    if (!old) {
      changes.push(`node "${node.id}" added`);
      continue;
    }
    if (old.module !== node.module || old.kind !== node.kind) {
      changes.push(`module of node "${node.id}" changed from "${old.module}" to "${node.module}"`);
    }
    if (!isDeepStrictEqual(old.params, node.params)) {
      changes.push(`params of node "${node.id}" changed`);
    }
    if (!isDeepStrictEqual(old.filters, node.filters)) {
      changes.push(`filters of node "${node.id}" changed`);
    }
    if (!isDeepStrictEqual(old.next, node.next)) changes.push(`edges of node "${node.id}" changed`);
    if (old.label !== node.label || !isDeepStrictEqual(old.layout, node.layout)) {
      changes.push(`layout of node "${node.id}" changed`);
    }
  }
  for (const node of previous) {
    if (!after.has(node.id)) changes.push(`node "${node.id}" removed`);
  }
  const sameIds = previous.length === next.length && previous.every((node) => after.has(node.id));
  if (changes.length === 0 && sameIds && previous.some((node, i) => node.id !== next[i]?.id)) {
    changes.push("node order changed");
  }
  return changes;
}
