/**
 * `tag_replacement_pap` (Tag Replacement - PAP 0.1): turns PAP look-alike tags (`pap:red`,
 * `permissible actions protocol: amber`) into `PAP:<PREDICATE>` with MISP's regex, run by `re2js`.
 *
 * @module
 */

import { RE2JS } from "re2js";
import type { WorkflowModule } from "../../engine/module.ts";
import { createTagReplacement } from "./lib/tag_replacement.ts";

/** MISP's search regex (`/…/i`), unchanged. */
export const PAP_SEARCH_REGEX =
  '(\\w*pap\\w*|permissible\\W+actions\\W+protocol)([:\\s\\-=]{1,2})"?(?P<predicate>white|clear|green|amber|red)"?';

const PAP_PATTERN = RE2JS.compile(PAP_SEARCH_REGEX, RE2JS.CASE_INSENSITIVE);

/** `PAP:<PREDICATE>` for a PAP-like tag name (namespace group equal to "pap"), else null. */
export function substitutePap(tagName: string): string | null {
  const matcher = PAP_PATTERN.matcher(tagName);
  if (!matcher.find()) return null;
  if (matcher.group(1)?.toLowerCase() !== "pap") return null;
  return `PAP:${matcher.group("predicate")?.toUpperCase()}`;
}

/** Tag Replacement - PAP: normalises PAP look-alike tags to `PAP:<PREDICATE>`. */
export const tagReplacementPap: WorkflowModule = createTagReplacement({
  id: "tag_replacement_pap",
  name: "Tag Replacement - PAP",
  description: "Attach a tag, or substitue a tag by another for the PAP taxonomy",
  substitute: substitutePap,
});
