import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { addEventblocklistEntry } from "../../../modules/action/add_eventblocklist_entry.ts";
import {
  coreFormat,
  createModuleContext,
  createSightingContext,
  sightingEvent,
  startSightingMisp,
} from "./misp_test_context.ts";

Deno.test("add_eventblocklist_entry blocks the event's UUID with its info and creator", async (t) => {
  await t.step("with the creator name from Event.Orgc", async () => {
    await using misp = await startSightingMisp();
    const run = await createSightingContext({ module: addEventblocklistEntry, misp });
    assert.equal(await addEventblocklistEntry.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => [request.method, request.path, request.body]), [
      ["POST", "/eventBlocklists/add", {
        uuids: ["5c6ab833-676c-42f3-95d2-034f0a00020f"],
        comment: "Blocked from workflow",
        event_info: "This is the description",
        event_orgc: "ORGNAME",
      }],
    ]);
    assert.equal(misp.state.blocklist.length, 1);
  });

  await t.step("looking the organisation up when Orgc is missing", async () => {
    await using misp = await startSightingMisp({
      organisations: [{ id: "1", name: "CIRCL", uuid: "55f6ea5e-2c60-40e5-964f-47a8950d210f" }],
    });
    const data = coreFormat(await sightingEvent());
    delete (data.Event as JsonObject).Orgc;
    const run = createModuleContext({
      module: addEventblocklistEntry,
      data,
      params: { block_comment: "Leaked" },
      misp,
    });
    assert.equal(await addEventblocklistEntry.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => request.path), [
      "/organisations/view/1",
      "/eventBlocklists/add",
    ]);
    assert.deepEqual(misp.state.blocklist[0], {
      event_uuid: "5c6ab833-676c-42f3-95d2-034f0a00020f",
      comment: "Leaked",
      event_info: "This is the description",
      event_orgc: "CIRCL",
    });
  });

  await t.step("failing when the UUID path finds nothing", async () => {
    await using misp = await startSightingMisp();
    const run = await createSightingContext({
      module: addEventblocklistEntry,
      params: { uuid_hash_path: "Event.nothing" },
      misp,
    });
    assert.equal(await addEventblocklistEntry.exec(run.context), false);
    assert.deepEqual(run.context.errors, ['No event UUID found at "Event.nothing"']);
    assert.equal(misp.requests.length, 0);
  });
});
