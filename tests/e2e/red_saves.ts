/**
 * What the end-to-end tests send a real Flowgate process: a workflow that stops on events saved
 * with tlp:red, a real MISP event (from the shared data set) with extra tags, and the webhook
 * that saves it as MISP's event-after-save would.
 *
 * @module
 */

import assert from "node:assert/strict";

const DATA = new URL("../../../shared/data/", import.meta.url);

/** The workflow `flag-red-saves`: event-after-save, stops when the event or an attribute is tlp:red. */
export const RED_SAVES_WORKFLOW = `
name: flag-red-saves
description: Stops on events tagged tlp:red, lets the rest through
trigger: event-after-save
enabled: true
start: red
nodes:
  red:
    module: tag-if
    params:
      scope: event_attribute
      condition: in_or
      tags: [tlp:red]
    then: stop
  stop:
    module: stop-execution
    params:
      message: "tlp:red event saved"
`;

/** The shared MISP event `misp-event-pymisp-sighting_2.json` with `tags` added to the event. */
export async function sharedEvent(tags: string[] = []): Promise<Record<string, unknown>> {
  const event = JSON.parse(
    await Deno.readTextFile(new URL("misp-event-pymisp-sighting_2.json", DATA)),
  );
  event.Event.Tag = [
    ...(event.Event.Tag ?? []),
    ...tags.map((name, index) => ({ id: String(9_001 + index), name })),
  ];
  return event;
}

/**
 * Posts the shared event tagged tlp:red to the Flowgate process at `base` as MISP's
 * event-after-save webhook; checks it was queued for one workflow and returns that run's id.
 */
export async function postRedSave(base: string, hookToken: string): Promise<string> {
  const hook = await fetch(`${base}/hooks/misp/event-after-save`, {
    method: "POST",
    headers: { Authorization: `Bearer ${hookToken}`, "Content-Type": "application/json" },
    body: JSON.stringify(await sharedEvent(["tlp:red"])),
  });
  assert.equal(hook.status, 202);
  const { run_ids: runIds } = await hook.json();
  assert.equal(runIds.length, 1);
  return runIds[0];
}
