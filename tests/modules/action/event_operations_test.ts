import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { MispError } from "../../../modules/action/lib/misp_client.ts";
import { enrichEvent } from "../../../modules/action/enrich_event.ts";
import { eventDistributionOperation } from "../../../modules/action/event_distribution_operation.ts";
import { publishEvent } from "../../../modules/action/publish_event.ts";
import { reloadFullEvent } from "../../../modules/action/reload_full_event.ts";
import { startFakeMisp } from "../../fakes/misp_server.ts";
import {
  coreFormat,
  createModuleContext,
  createSightingContext,
  sightingEvent,
  startSightingMisp,
} from "./misp_test_context.ts";

Deno.test("Module_event_distribution_operation edits the event and mirrors it", async (t) => {
  await t.step("modify: MISP unpublishes, so does the roaming data", async () => {
    const stored = await sightingEvent();
    (stored.Event as JsonObject).published = true;
    await using misp = await startFakeMisp({ events: [stored] });
    const run = createModuleContext({
      module: eventDistributionOperation,
      data: coreFormat(stored),
      params: { distribution: "4", sharing_group_id: "3" },
      misp,
    });
    assert.equal(await eventDistributionOperation.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => [request.method, request.path, request.body]), [
      ["POST", "/events/edit/1", { Event: { distribution: "4", sharing_group_id: "3" } }],
    ]);
    const event = run.data().Event as JsonObject;
    assert.equal(event.distribution, "4");
    assert.equal(event.sharing_group_id, "3");
    assert.equal(event.published, false);
    assert.equal(misp.event("1")?.published, false);
  });

  await t.step("freeze: sends the published state so MISP keeps it", async () => {
    const stored = await sightingEvent();
    (stored.Event as JsonObject).published = true;
    await using misp = await startFakeMisp({ events: [stored] });
    const run = createModuleContext({
      module: eventDistributionOperation,
      data: coreFormat(stored),
      params: { freeze: "freeze", distribution: "2" },
      misp,
    });
    assert.equal(await eventDistributionOperation.exec(run.context), true);
    assert.deepEqual(misp.requests[0]?.body, { Event: { distribution: "2", published: true } });
    assert.equal(misp.event("1")?.published, true);
    assert.equal((run.data().Event as JsonObject).published, true);
  });

  await t.step("an event without attributes is left alone (MISP's quirk)", async () => {
    const stored = await sightingEvent();
    (stored.Event as JsonObject).Attribute = [];
    await using misp = await startFakeMisp({ events: [stored] });
    const run = createModuleContext({
      module: eventDistributionOperation,
      data: coreFormat(stored),
      params: { distribution: "3" },
      misp,
    });
    assert.equal(await eventDistributionOperation.exec(run.context), true);
    assert.equal(misp.requests.length, 0);
  });
});

Deno.test("publish-event publishes through MISP, which runs its publish hook", async (t) => {
  await t.step("allowed", async () => {
    const seen: JsonObject[] = [];
    await using misp = await startSightingMisp({
      onPublish: (event) => {
        seen.push(event);
      },
    });
    const run = await createSightingContext({ module: publishEvent, misp });
    assert.equal(await publishEvent.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => [request.method, request.path, request.body]), [
      ["POST", "/events/publish/1", undefined],
    ]);
    assert.equal(seen.length, 1);
    assert.equal((seen[0]?.Event as JsonObject).uuid, "5c6ab833-676c-42f3-95d2-034f0a00020f");
    assert.equal(misp.event("1")?.published, true);
    assert.equal(run.records[0]?.summary, "POST /events/publish/1: publish event 1");
  });

  await t.step("blocked by MISP's own workflow, with the reason", async () => {
    await using misp = await startSightingMisp({
      onPublish: () => ({ block: "Event is tlp:red" }),
    });
    const run = await createSightingContext({ module: publishEvent, misp });
    const error = await Promise.resolve(publishEvent.exec(run.context)).catch((e) => e);
    assert.ok(error instanceof MispError);
    assert.equal(error.status, 403);
    assert.match(error.message, /Publishing failed: \{"Module":\["Event is tlp:red"\]\}/);
    assert.equal(misp.event("1")?.published, false);
  });

  await t.step("dry run sends nothing", async () => {
    let published = 0;
    await using misp = await startSightingMisp({
      onPublish: () => {
        published++;
      },
    });
    const run = await createSightingContext({ module: publishEvent, misp, dryRun: true });
    assert.equal(await publishEvent.exec(run.context), true);
    assert.equal(misp.requests.length, 0);
    assert.equal(published, 0);
    assert.equal(run.records[0]?.dry, true);
  });
});

Deno.test("reload-full-event replaces the roaming data with MISP's event in core format", async () => {
  await using misp = await startSightingMisp();
  (misp.event("1") as JsonObject).info = "Changed in MISP";
  const run = await createSightingContext({ module: reloadFullEvent, misp });
  assert.equal(await reloadFullEvent.exec(run.context), true);
  assert.deepEqual(misp.requests.map((request) => [request.method, request.path]), [
    ["GET", "/events/view/1"],
  ]);
  const event = run.data().Event as JsonObject;
  assert.equal(event.info, "Changed in MISP");
  assert.equal((event._AttributeFlattened as JsonObject[]).length, 2);
});

Deno.test("reload-full-event does nothing for a trigger without core format", async () => {
  await using misp = await startSightingMisp();
  const run = createModuleContext({
    module: reloadFullEvent,
    data: { User: { id: "1" } },
    misp,
    trigger: "user-after-save",
  });
  assert.equal(await reloadFullEvent.exec(run.context), true);
  assert.equal(misp.requests.length, 0);
});

Deno.test("enrich-event has MISP enrich and reloads the roaming data", async (t) => {
  await t.step("the whole event without filters", async () => {
    await using misp = await startSightingMisp();
    const run = await createSightingContext({
      module: enrichEvent,
      params: { modules: "dns" },
      misp,
    });
    assert.equal(await enrichEvent.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => [request.method, request.path, request.body]), [
      ["POST", "/events/enrichEvent/1", { dns: true }],
      ["GET", "/events/view/1", undefined],
    ]);
    const flattened = (run.data().Event as JsonObject)._AttributeFlattened as JsonObject[];
    assert.equal(flattened.length, 3);
    assert.equal(flattened[2]?.value, "Enriched via the dns module");
  });

  await t.step("only the filtered attributes", async () => {
    await using misp = await startSightingMisp();
    const run = await createSightingContext({
      module: enrichEvent,
      params: { modules: "dns" },
      filters: {
        selector: "Event._AttributeFlattened.{n}",
        value: "target-external",
        operator: "equals",
        path: "type",
      },
      misp,
    });
    assert.equal(await enrichEvent.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => [request.path, request.body]), [
      ["/attributes/enrich/242460", { dns: true }],
      ["/events/view/1", undefined],
    ]);
  });

  await t.step("nothing when filters match nothing", async () => {
    await using misp = await startSightingMisp();
    const run = await createSightingContext({
      module: enrichEvent,
      params: { modules: "dns" },
      filters: {
        selector: "Event._AttributeFlattened.{n}",
        value: "ip-dst",
        operator: "equals",
        path: "type",
      },
      misp,
    });
    assert.equal(await enrichEvent.exec(run.context), true);
    assert.equal(misp.requests.length, 0);
  });
});
