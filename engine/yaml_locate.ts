/**
 * Where a validation problem sits in a YAML workflow's text: the line and column of the node's
 * field (`nodes.<id>.params.scope`), else of the nearest enclosing key, so an editor can show the
 * problem at its line.
 *
 * @module
 */

import { isMap, isScalar, LineCounter, type Node as YamlNode, parseDocument } from "yaml";

/** A 1-based line and column. */
export interface TextPosition {
  line: number;
  column: number;
}

/** The keys leading to a problem's place: `["nodes", id, "params", "scope"]` or `["trigger"]`. */
function pathOf(place: { node?: string; field?: string }): string[] {
  const field = place.field?.split(".").filter(Boolean) ?? [];
  if (place.node === undefined) return field;
  // Edge fields of the model (`next[1]`, `then`) sit under the node's own keys.
  return ["nodes", place.node, ...field.map((part) => part.replace(/\[\d+\]$/, ""))];
}

/**
 * Finds problems' places in one YAML workflow text, parsed once: the returned function gives the
 * position of a problem's node and field, the nearest enclosing key when the field itself is not
 * written (a missing param: the node's `params`, or the node), or undefined when the text is not
 * YAML or does not hold the node. Parsing once keeps a source with thousands of problems linear.
 */
export function yamlLocator(
  text: string,
): (place: { node?: string; field?: string }) => TextPosition | undefined {
  const lines = new LineCounter();
  let document;
  try {
    // Only a text that already parsed is located in: no need for the parser's costly key check.
    document = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  } catch {
    return () => undefined;
  }
  if (document.errors.length > 0) return () => undefined;
  const contents: unknown = document.contents;
  return (place) => {
    let current = contents;
    let found: YamlNode | undefined;
    for (const key of pathOf(place)) {
      if (!isMap(current)) break;
      const pair = current.items.find((item) =>
        isScalar(item.key) && String(item.key.value) === key
      );
      if (!pair) break;
      found = pair.key as YamlNode;
      current = pair.value;
    }
    if (found === undefined && place.node === undefined && place.field === undefined) {
      return undefined;
    }
    const offset = found?.range?.[0];
    if (offset === undefined) return undefined;
    const position = lines.linePos(offset);
    return { line: position.line, column: position.col };
  };
}
