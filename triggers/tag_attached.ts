/**
 * The `tag-attached-after-save` trigger's params and entry condition (reference §4.2).
 *
 * @module
 */

import { looseEquals } from "../engine/php_compare.ts";
import type { JsonObject, ParamDescriptor } from "../engine/model.ts";
import { isPhpEmpty, isPlainObject } from "./json_shape.ts";

/** The trigger's params, with MISP's ids, labels, options and defaults. */
export const TAG_ATTACHED_PARAMS: ParamDescriptor[] = [
  {
    id: "scope",
    label: "Scope",
    type: "select",
    options: { event: "Event", attribute: "Attributes", any: "Any" },
    default: "event",
  },
  {
    id: "locality",
    label: "Tag Locality",
    type: "select",
    options: { local: "Local", global: "Global", any: "Any" },
    default: "local",
  },
  { id: "tag", label: "Tags", type: "input", placeholder: "Type a tag" },
];

/**
 * MISP's entry condition on the raw `{Tag: {…}}` data: false when the tag's target (event or
 * attribute), locality (local or global) or name does not match the trigger node's params.
 * Params take MISP's resolution: a missing or null value falls back to the default.
 */
export function acceptsTagAttached(raw: JsonObject, params: Record<string, unknown>): boolean {
  const scope = paramValue(params, "scope");
  const locality = paramValue(params, "locality");
  const name = paramValue(params, "tag");
  // Without the attached Tag row the data is MISP's roaming data (what `/query` and MISP's
  // Webhook send): MISP applied this entry condition itself before handing it over.
  if (!isPlainObject(raw.Tag)) return true;
  const tag = raw.Tag;
  if (scope === "attribute" && isPhpEmpty(tag.attribute_id)) return false;
  if (scope === "event" && !isPhpEmpty(tag.attribute_id)) return false;
  if (locality === "local" && isPhpEmpty(tag.local)) return false;
  if (locality === "global" && !isPhpEmpty(tag.local)) return false;
  return isPhpEmpty(name) || looseEquals(tag.name, name);
}

function paramValue(params: Record<string, unknown>, id: string): unknown {
  const value = params[id];
  if (value !== undefined && value !== null) return value;
  return TAG_ATTACHED_PARAMS.find((param) => param.id === id)?.default ?? "";
}
