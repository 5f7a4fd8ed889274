import assert from "node:assert/strict";
import type { MispApi } from "../../engine/module_services.ts";
import { createMispAdminApi } from "../../services/misp_admin_api.ts";

/** A MISP REST client that answers every call with `answer`. */
function answering(answer: unknown): MispApi {
  return { request: () => Promise.resolve(answer as never) };
}

Deno.test("listTriggers() names the trigger whose workflow data MISP sent as broken JSON", async () => {
  const misp = createMispAdminApi(answering([
    { id: "event-publish", name: "Event Publish", Workflow: { id: "3", data: '{"1": {"id": 1' } },
  ]));
  await assert.rejects(
    () => misp.listTriggers(),
    (error: Error) =>
      error instanceof TypeError && /trigger "event-publish"/.test(error.message) &&
      /not JSON/.test(error.message),
  );
});

Deno.test("listTriggers() reads a workflow's data as a graph or as its JSON text", async () => {
  const graph = { "1": { id: 1, data: { id: "event-publish" } } };
  for (const data of [graph, JSON.stringify(graph)]) {
    const [trigger] = await createMispAdminApi(answering([
      { id: "event-publish", Workflow: { id: "3", name: "wf", data } },
    ])).listTriggers();
    assert.deepEqual(trigger?.workflow?.data, graph);
  }
});
