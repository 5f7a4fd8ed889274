/**
 * `tag_replacement_tlp` (Tag Replacement - TLP 0.1): turns TLP look-alike tags (`TLP:RED`,
 * `traffic light protocol = amber`) into `tlp:<predicate>` with MISP's regex, run by `re2js`
 * (the pattern is RE2-compatible, so matching stays linear-time).
 *
 * @module
 */

import { RE2JS } from "re2js";
import type { WorkflowModule } from "../../engine/module.ts";
import { createTagReplacement } from "./lib/tag_replacement.ts";

/** MISP's search regex (`/…/i`), unchanged. */
export const TLP_SEARCH_REGEX =
  '(\\w*tlp\\w*|traffic\\W+light\\W+protocol)([:\\s\\-=]{1,2})"?(?P<predicate>white|clear|green|amber|amber\\+strict|red)"?';

const TLP_PATTERN = RE2JS.compile(TLP_SEARCH_REGEX, RE2JS.CASE_INSENSITIVE);

/** `tlp:<predicate>` for a TLP-like tag name (namespace group equal to "tlp"), else null. */
export function substituteTlp(tagName: string): string | null {
  const matcher = TLP_PATTERN.matcher(tagName);
  if (!matcher.find()) return null;
  if (matcher.group(1)?.toLowerCase() !== "tlp") return null;
  return `tlp:${matcher.group("predicate")?.toLowerCase()}`;
}

/** Tag Replacement - TLP: normalises TLP look-alike tags to `tlp:<predicate>`. */
export const tagReplacementTlp: WorkflowModule = createTagReplacement({
  id: "tag_replacement_tlp",
  name: "Tag Replacement - TLP",
  description: "Attach a tag, or substitue a tag by another for the TLP taxonomy",
  substitute: substituteTlp,
});
