/**
 * A JSON value as a foldable tree: small values inline, large objects and arrays folded in
 * `<details>`, long strings and arrays cut, and a budget so a huge event keeps the page small.
 *
 * @module
 */

import type { Child } from "hono/jsx";
import type { JSX } from "hono/jsx/jsx-runtime";

/** Values whose JSON is at most this long are shown inline, unfolded. */
export const INLINE_JSON_CHARS = 120;
/** Items of one array or object shown before the rest is summarised. */
export const MAX_ITEMS_SHOWN = 50;
/** Characters of one string shown before it is cut. */
export const MAX_STRING_CHARS = 1_000;
/** Characters of HTML rendered for a whole tree before the rest is summarised. */
export const RENDER_BUDGET_CHARS = 80_000;
/** Markup around each rendered value (`<div class="kv">`, the key's span), counted in the budget. */
const MARKUP_CHARS = 48;

/** The JSON length of `value`, or `cap + 1` as soon as it is known to exceed `cap`. */
export function jsonLengthUpTo(value: unknown, cap: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item !== null && typeof item === "object") {
      const entries = Array.isArray(item) ? item : Object.entries(item);
      total += 2 + entries.length;
      for (const entry of entries) stack.push(entry);
    } else {
      total += (JSON.stringify(item) ?? "null").length;
    }
    if (total > cap) return cap + 1;
  }
  return total;
}

interface Budget {
  left: number;
}

function clipString(text: string): string {
  return text.length > MAX_STRING_CHARS
    ? `${text.slice(0, MAX_STRING_CHARS)}… (${text.length} characters)`
    : text;
}

function Node(
  props: { name?: string; value: unknown; depth: number; budget: Budget },
): JSX.Element {
  const { name, value, depth, budget } = props;
  const key = name === undefined ? null : <span class="key">{`${name}: `}</span>;
  if (value === null || typeof value !== "object") {
    const text = typeof value === "string"
      ? JSON.stringify(clipString(value))
      : String(JSON.stringify(value));
    budget.left -= text.length + (name?.length ?? 0) + MARKUP_CHARS;
    return (
      <div class="kv">
        {key}
        {text}
      </div>
    );
  }
  const size = jsonLengthUpTo(value, INLINE_JSON_CHARS);
  if (size <= INLINE_JSON_CHARS) {
    const text = JSON.stringify(value);
    budget.left -= text.length + (name?.length ?? 0) + MARKUP_CHARS;
    return (
      <div class="kv">
        {key}
        {text}
      </div>
    );
  }
  const entries: [string | undefined, unknown][] = Array.isArray(value)
    ? value.map((item, i) => [String(i), item])
    : Object.entries(value);
  const shown = entries.slice(0, MAX_ITEMS_SHOWN);
  const children: Child[] = [];
  for (const [childName, child] of shown) {
    if (budget.left <= 0) break;
    children.push(<Node name={childName} value={child} depth={depth + 1} budget={budget} />);
  }
  budget.left -= (name?.length ?? 0) + MARKUP_CHARS;
  const hidden = entries.length - children.length;
  const label = Array.isArray(value) ? `[${entries.length} items]` : `{${entries.length} keys}`;
  return (
    <details open={depth < 1}>
      <summary>
        {key}
        {label}
      </summary>
      {children}
      {hidden > 0 && <div class="kv muted">{`… ${hidden} more not shown: see the raw JSON`}</div>}
    </details>
  );
}

/** The tree of `value`; deep and large parts start folded. */
export function JsonView(props: { value: unknown }): JSX.Element {
  return (
    <div class="json">
      <Node value={props.value} depth={0} budget={{ left: RENDER_BUDGET_CHARS }} />
    </div>
  );
}
