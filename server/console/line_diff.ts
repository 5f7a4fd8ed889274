/**
 * A line diff by longest common subsequence, for comparing two versions of a workflow's YAML.
 *
 * @module
 */

/** One line of a diff: kept, added (only in the new text) or deleted (only in the old one). */
export interface DiffLine {
  op: "same" | "add" | "del";
  text: string;
}

/** Largest number of LCS table cells computed; beyond it the middle is shown as delete + add. */
export const MAX_DIFF_CELLS = 4_000_000;

/**
 * The lines of `before` and `after` as a minimal diff: common prefix and suffix first, then an LCS
 * table over the rest. Deletions come before additions where both are possible.
 */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = splitLines(before);
  const b = splitLines(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head = a.slice(0, start).map((text): DiffLine => ({ op: "same", text }));
  const tail = a.slice(endA).map((text): DiffLine => ({ op: "same", text }));
  return [...head, ...diffMiddle(a.slice(start, endA), b.slice(start, endB)), ...tail];
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

function diffMiddle(a: string[], b: string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  if ((n + 1) * (m + 1) > MAX_DIFF_CELLS) {
    return [
      ...a.map((text): DiffLine => ({ op: "del", text })),
      ...b.map((text): DiffLine => ({ op: "add", text })),
    ];
  }
  // lcs[i * (m + 1) + j] = length of the LCS of a[i..] and b[j..].
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] = a[i] === b[j]
        ? lcs[(i + 1) * width + j + 1]! + 1
        : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const result: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      result.push({ op: "same", text: a[i]! });
      i++;
      j++;
    } else if (lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!) {
      result.push({ op: "del", text: a[i++]! });
    } else {
      result.push({ op: "add", text: b[j++]! });
    }
  }
  while (i < n) result.push({ op: "del", text: a[i++]! });
  while (j < m) result.push({ op: "add", text: b[j++]! });
  return result;
}
