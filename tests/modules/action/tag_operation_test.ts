import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { IntegrationMissingError, TransientError } from "../../../engine/module_errors.ts";
import { MispError } from "../../../modules/action/lib/misp_client.ts";
import { tagOperation } from "../../../modules/action/tag_operation.ts";
import { startFakeMisp } from "../../fakes/misp_server.ts";
import {
  coreFormat,
  createModuleContext,
  createSightingContext,
  sightingEvent,
  startSightingMisp,
} from "./misp_test_context.ts";

const EVENT_UUID = "5c6ab833-676c-42f3-95d2-034f0a00020f";
const COMMENT_UUID = "5c6ab897-0f68-44ca-8d62-0c150a00020f";

function tagNames(holder: unknown): string[] {
  return (((holder as JsonObject).Tag ?? []) as JsonObject[]).map((tag) => String(tag.name));
}

Deno.test("tag_operation adds a global tag to the event in MISP and leaves the roaming data as it was", async () => {
  await using misp = await startSightingMisp();
  const run = await createSightingContext({
    module: tagOperation,
    params: { scope: "event", action: "add", locality: "global", tags: ["tlp:amber"] },
    misp,
  });
  assert.equal(await tagOperation.exec(run.context), true);

  assert.equal(misp.requests.length, 1);
  const [request] = misp.requests;
  assert.equal(request?.method, "POST");
  assert.equal(request?.path, "/tags/attachTagToObject");
  assert.equal(request?.headers.authorization, misp.apiKey);
  assert.equal(request?.headers["content-type"], "application/json");
  assert.deepEqual(request?.body, { uuid: EVENT_UUID, tag: "tlp:amber", local: false });
  assert.ok(tagNames(misp.event("1")).includes("tlp:amber"));
  assert.equal(misp.event("1")?.published, false);

  assert.deepEqual(run.data(), coreFormat(await sightingEvent()));
  assert.equal(run.records.length, 1);
  assert.equal(run.records[0]?.dry, false);
  assert.equal(run.records[0]?.url, "/tags/attachTagToObject");
  assert.equal(run.records[0]?.details?.endpoint, "/tags/attachTagToObject");
  assert.match(String(run.records[0]?.body_digest), /^[0-9a-f]{64}$/);
});

Deno.test("tag_operation tags only the attributes the node filters select", async () => {
  await using misp = await startSightingMisp();
  const run = await createSightingContext({
    module: tagOperation,
    params: {
      scope: "attribute",
      action: "add",
      locality: "local",
      tags: ["workflow:checked"],
      relationship_type: "seen-by",
    },
    filters: {
      selector: "Event._AttributeFlattened.{n}",
      value: "comment",
      operator: "equals",
      path: "type",
    },
    misp,
  });
  assert.equal(await tagOperation.exec(run.context), true);
  assert.deepEqual(misp.requests.map((request) => request.body), [
    { uuid: COMMENT_UUID, tag: "workflow:checked", local: true, relationship_type: "seen-by" },
  ]);
  assert.deepEqual(run.data(), coreFormat(await sightingEvent()));
});

Deno.test("tag_operation removes a tag only when its locality matches", async (t) => {
  const localTagged = async () => {
    const stored = await sightingEvent();
    (stored.Event as JsonObject).Tag = [
      ...((stored.Event as JsonObject).Tag as JsonObject[]),
      { id: "7", name: "workflow:todo", local: true },
    ];
    return stored;
  };

  await t.step("global removal leaves a local tag alone", async () => {
    await using misp = await startFakeMisp({ events: [await localTagged()] });
    const run = createModuleContext({
      module: tagOperation,
      data: coreFormat(await localTagged()),
      params: { scope: "event", action: "remove", locality: "global", tags: ["workflow:todo"] },
      misp,
    });
    assert.equal(await tagOperation.exec(run.context), true);
    assert.equal(misp.requests.length, 0);
  });

  await t.step("local removal detaches it in MISP, not in the roaming data", async () => {
    await using misp = await startFakeMisp({ events: [await localTagged()] });
    const run = createModuleContext({
      module: tagOperation,
      data: coreFormat(await localTagged()),
      params: { scope: "event", action: "remove", locality: "local", tags: ["WORKFLOW:TODO"] },
      misp,
    });
    assert.equal(await tagOperation.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => [request.path, request.body]), [
      ["/tags/removeTagFromObject", { uuid: EVENT_UUID, tag: "workflow:todo" }],
    ]);
    assert.ok(!tagNames(misp.event("1")).includes("workflow:todo"));
    assert.deepEqual(run.data(), coreFormat(await localTagged()));
  });
});

Deno.test("tag_operation dry run records the call and sends nothing", async () => {
  await using misp = await startSightingMisp();
  const run = await createSightingContext({
    module: tagOperation,
    params: { scope: "event", action: "add", locality: "local", tags: ["tlp:red"] },
    misp,
    dryRun: true,
  });
  assert.equal(await tagOperation.exec(run.context), true);
  assert.equal(misp.requests.length, 0);
  assert.equal(run.records.length, 1);
  const [record] = run.records;
  assert.equal(record?.kind, "misp");
  assert.equal(record?.dry, true);
  assert.equal(record?.method, "POST");
  assert.equal(record?.url, "/tags/attachTagToObject");
  assert.equal(record?.details?.tag, "tlp:red");
  assert.ok(!JSON.stringify(run.records).includes(misp.apiKey));
});

Deno.test("tag_operation fails clearly", async (t) => {
  await t.step("without MISP configured", async () => {
    const run = await createSightingContext({
      module: tagOperation,
      params: { tags: ["tlp:red"] },
      misp: null,
    });
    await assert.rejects(
      () => Promise.resolve(tagOperation.exec(run.context)),
      (error) =>
        error instanceof IntegrationMissingError &&
        error.message === "This module needs MISP_URL and MISP_API_KEY to be set",
    );
  });

  await t.step("when MISP refuses, with MISP's message and without the key", async () => {
    await using misp = await startSightingMisp();
    misp.failNext({
      status: 403,
      body: {
        saved: false,
        name: "Failed to attach tag to object.",
        message: "Failed to attach tag to object.",
        url: "/tags/attachTagToObject",
        errors: "You don't have permission to do that.",
      },
    });
    const run = await createSightingContext({
      module: tagOperation,
      params: { tags: ["tlp:red"] },
      misp,
    });
    const error = await Promise.resolve(tagOperation.exec(run.context)).catch((e) => e);
    assert.ok(error instanceof MispError);
    assert.equal(error.kind, "refused");
    assert.match(error.message, /HTTP 403\): Failed to attach tag to object\.: You don't have/);
    assert.ok(!error.message.includes(misp.apiKey));
    assert.equal(run.records.length, 0);
  });

  await t.step("with a TransientError when MISP keeps failing", async () => {
    await using misp = await startSightingMisp();
    misp.failNext({ status: 502, count: 3 });
    const run = await createSightingContext({
      module: tagOperation,
      params: { tags: ["tlp:red"] },
      misp,
      client: { retries: 1 },
    });
    const error = await Promise.resolve(tagOperation.exec(run.context)).catch((e) => e);
    assert.ok(error instanceof TransientError);
    assert.ok(error.cause instanceof MispError);
    assert.equal(misp.requests.length, 2);
    assert.ok(!error.message.includes(misp.apiKey));
  });
});

Deno.test("tag_operation declares MISP's clusters picker and, as MISP's exec, attaches no cluster", async () => {
  const clusters = tagOperation.descriptor.params.find((param) => param.id === "clusters");
  assert.equal(clusters?.type, "picker");
  assert.equal(clusters?.multiple, true);
  await using misp = await startSightingMisp();
  const run = await createSightingContext({
    module: tagOperation,
    params: { scope: "event", action: "add", tags: ["tlp:amber"], clusters: ['botnet="Asprox"'] },
    misp,
  });
  assert.equal(await tagOperation.exec(run.context), true);
  assert.deepEqual(misp.requests.map((request) => (request.body as JsonObject).tag), ["tlp:amber"]);
  assert.deepEqual(run.observed.clusters_ignored, ['botnet="Asprox"']);
});
