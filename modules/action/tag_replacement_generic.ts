/**
 * `tag_replacement_generic` (Tag Replacement Generic 0.1): MISP's base of the replacement modules.
 * Its search regex and substitution template are empty, so it replaces nothing, here as in MISP.
 *
 * @module
 */

import type { WorkflowModule } from "../../engine/module.ts";
import { createTagReplacement } from "./lib/tag_replacement.ts";

/** Tag Replacement Generic: a no-op, as in MISP (no search regex is configured). */
export const tagReplacementGeneric: WorkflowModule = createTagReplacement({
  id: "tag_replacement_generic",
  name: "Tag Replacement Generic",
  description: "Attach a tag, or substitue a tag by another",
  substitute: null,
});
