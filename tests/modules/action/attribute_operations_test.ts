import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { attributeCommentOperation } from "../../../modules/action/attribute_comment_operation.ts";
import { attributeDistributionOperation } from "../../../modules/action/attribute_distribution_operation.ts";
import { attributeIdsFlagOperation } from "../../../modules/action/attribute_ids_flag_operation.ts";
import { startFakeMisp } from "../../fakes/misp_server.ts";
import {
  coreFormat,
  createModuleContext,
  createSightingContext,
  proposalsEvent,
  sightingEvent,
  startSightingMisp,
} from "./misp_test_context.ts";

const COMMENT_TYPE = {
  selector: "Event._AttributeFlattened.{n}",
  value: "comment",
  operator: "equals",
  path: "type",
};

function attributeById(data: JsonObject, id: string): JsonObject[] {
  const event = data.Event as JsonObject;
  const objects = (event.Object ?? []) as { Attribute: JsonObject[] }[];
  return [
    ...(event._AttributeFlattened as JsonObject[]),
    ...(event.Attribute as JsonObject[]),
    ...objects.flatMap((object) => object.Attribute),
  ].filter((attribute) => attribute.id === id);
}

Deno.test("attribute_ids_flag_operation sets to_ids on the filtered attribute in MISP and both views", async () => {
  await using misp = await startSightingMisp();
  const run = await createSightingContext({
    module: attributeIdsFlagOperation,
    params: { action: "add" },
    filters: COMMENT_TYPE,
    misp,
  });
  assert.equal(await attributeIdsFlagOperation.exec(run.context), true);
  assert.equal(misp.requests.length, 1);
  const [request] = misp.requests;
  assert.equal(request?.method, "POST");
  assert.equal(request?.path, "/attributes/edit/1");
  assert.equal(request?.headers.authorization, misp.apiKey);
  assert.deepEqual(request?.body, { Attribute: { to_ids: true } });
  const views = attributeById(run.data(), "1");
  assert.equal(views.length, 2);
  for (const view of views) assert.equal(view.to_ids, true);
  assert.ok(views.every((view) => Array.isArray(view._allTags)));
  assert.deepEqual(run.observed.edited_attributes, ["1"]);
});

Deno.test("attribute_ids_flag_operation leaves attributes that already hold the value", async () => {
  await using misp = await startSightingMisp();
  const run = await createSightingContext({
    module: attributeIdsFlagOperation,
    params: { action: "remove" },
    misp,
  });
  assert.equal(await attributeIdsFlagOperation.exec(run.context), true);
  assert.deepEqual(misp.requests.map((request) => request.path), ["/attributes/edit/242460"]);
  assert.deepEqual(misp.requests[0]?.body, { Attribute: { to_ids: false } });
});

Deno.test("Module_attribute_comment_operation writes the comment on object attributes too", async () => {
  await using misp = await startFakeMisp({ events: [await proposalsEvent()] });
  const run = createModuleContext({
    module: attributeCommentOperation,
    data: coreFormat(await proposalsEvent()),
    params: { comment: "Reviewed by Flowgate" },
    filters: {
      selector: "Event._AttributeFlattened.{n}",
      value: "filename",
      operator: "equals",
      path: "type",
    },
    misp,
  });
  assert.equal(attributeCommentOperation.descriptor.id, "Module_attribute_comment_operation");
  assert.equal(await attributeCommentOperation.exec(run.context), true);
  assert.deepEqual(misp.requests.map((request) => [request.path, request.body]), [
    ["/attributes/edit/811578", { Attribute: { comment: "Reviewed by Flowgate" } }],
    ["/attributes/edit/811579", { Attribute: { comment: "Reviewed by Flowgate" } }],
  ]);
  const objectViews = attributeById(run.data(), "811579");
  assert.equal(objectViews.length, 2);
  for (const view of objectViews) assert.equal(view.comment, "Reviewed by Flowgate");
  assert.notEqual(attributeById(run.data(), "811580")[0]?.comment, "Reviewed by Flowgate");
});

Deno.test("attribute_distribution_operation sends the sharing group with distribution 4", async () => {
  await using misp = await startSightingMisp();
  const run = await createSightingContext({
    module: attributeDistributionOperation,
    params: { distribution: "4", sharing_group_id: ["2"] },
    filters: COMMENT_TYPE,
    misp,
  });
  assert.equal(await attributeDistributionOperation.exec(run.context), true);
  assert.deepEqual(misp.requests[0]?.body, {
    Attribute: { distribution: "4", sharing_group_id: "2" },
  });
  for (const view of attributeById(run.data(), "1")) {
    assert.equal(view.distribution, "4");
    assert.equal(view.sharing_group_id, "2");
  }
});

Deno.test("attribute operations in a dry run record each edit and send nothing", async () => {
  await using misp = await startSightingMisp();
  const data = coreFormat(await sightingEvent());
  const run = createModuleContext({
    module: attributeCommentOperation,
    data,
    params: { comment: "x" },
    misp,
    dryRun: true,
  });
  assert.equal(await attributeCommentOperation.exec(run.context), true);
  assert.equal(misp.requests.length, 0);
  assert.deepEqual(run.records.map((record) => [record.dry, record.method, record.url]), [
    [true, "POST", "/attributes/edit/1"],
    [true, "POST", "/attributes/edit/242460"],
  ]);
});

Deno.test("attribute operations fail, naming the path, when filters select scalars", async () => {
  await using misp = await startSightingMisp();
  const run = await createSightingContext({
    module: attributeIdsFlagOperation,
    params: {},
    filters: { selector: "Event.info.{n}", value: "x", operator: "equals", path: "type" },
    misp,
  });
  await assert.rejects(
    () => Promise.resolve(attributeIdsFlagOperation.exec(run.context)),
    (error) => error instanceof TypeError && /path "type"/.test(error.message),
  );
  assert.equal(misp.requests.length, 0);
});
