/**
 * A workflow the import page must refuse: its last node names a module that does not exist. The
 * console tests and the browser screenshots check the page points at that line.
 *
 * @module
 */

/** The workflow's YAML; `stop` names the unknown module `stop-exec`. */
export const BROKEN_IMPORT_YAML = `name: broken-import
description: A workflow whose last node names a module that does not exist
trigger: event-publish
enabled: true
start: check
nodes:
  check:
    module: tag-if
    params: { scope: event, condition: in_or, tags: [tlp:red] }
    then: stop
  stop:
    module: stop-exec
    params: { message: "Blocked" }
`;

/** The line of `module: stop-exec` (1-based), where the import page shows the problem. */
export const BROKEN_IMPORT_LINE = BROKEN_IMPORT_YAML.split("\n").indexOf("    module: stop-exec") +
  1;
