/**
 * The tag params MISP's tag modules declare alike: the tag condition of `tag-if` and `filter-tag`,
 * and the tag and galaxy-cluster pickers of `filter-tag` and `tag_operation`.
 *
 * @module
 */

import type { ParamDescriptor } from "../engine/model.ts";

/** `condition`: how the picked tags are matched (any or all, present or absent). */
export const TAG_CONDITION_PARAM: ParamDescriptor = {
  id: "condition",
  label: "Condition",
  type: "select",
  default: "in_or",
  options: {
    in_or: "Is tagged with any (OR)",
    in_and: "Is tagged with all (AND)",
    not_in_or: "Is not tagged with any (OR)",
    not_in_and: "Is not tagged with all (AND)",
  },
};

/** `tags` and `clusters`: the pickers of tag names and galaxy clusters (options filled by MISP). */
export const TAG_PICKER_PARAMS: ParamDescriptor[] = [
  {
    id: "tags",
    label: "Tags",
    type: "picker",
    multiple: true,
    options: [],
    placeholder: "Pick a tag",
  },
  {
    id: "clusters",
    label: "Galaxy Clusters",
    type: "picker",
    multiple: true,
    options: [],
    placeholder: "Pick a Galaxy Cluster",
  },
];
