import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { addAnalystData } from "../../../modules/action/add_analyst_data.ts";
import { TransientError } from "../../../engine/module_errors.ts";
import {
  coreFormat,
  createModuleContext,
  createSightingContext,
  sightingEvent,
  startSightingMisp,
} from "./misp_test_context.ts";

const EVENT_UUID = "5c6ab833-676c-42f3-95d2-034f0a00020f";
const COMMENT_UUID = "5c6ab897-0f68-44ca-8d62-0c150a00020f";
const TARGET_UUID = "5c764091-273c-4821-92ad-0e1a0a00020f";

Deno.test("add_analyst_data adds a Note on the event by default", async () => {
  await using misp = await startSightingMisp();
  const run = await createSightingContext({
    module: addAnalystData,
    misp,
    params: { note: "Seen in the wild", language: "en", author: "analyst@example.org" },
  });
  const before = JSON.stringify(run.data());
  assert.equal(await addAnalystData.exec(run.context), true);
  assert.deepEqual(run.context.errors, []);
  assert.equal(misp.requests.length, 1);
  const [request] = misp.requests;
  assert.equal(request?.method, "POST");
  assert.equal(request?.path, `/analyst_data/add/Note/${EVENT_UUID}/Event`);
  assert.deepEqual(request?.body, {
    Note: {
      distribution: "0",
      sharing_group_id: "0",
      authors: "analyst@example.org",
      language: "en",
      note: "Seen in the wild",
    },
  });
  assert.equal(misp.state.analystData.length, 1);
  assert.equal(misp.state.analystData[0]?.data.object_uuid, EVENT_UUID);
  assert.equal(run.records.length, 1);
  assert.equal(run.records[0]?.dry, false);
  assert.equal(run.records[0]?.url, `/analyst_data/add/Note/${EVENT_UUID}/Event`);
  assert.ok(!JSON.stringify(run.records).includes(misp.apiKey));
  assert.equal(JSON.stringify(run.data()), before, "MISP leaves the roaming data alone");
});

Deno.test("add_analyst_data adds an Opinion on every attribute", async () => {
  await using misp = await startSightingMisp();
  const run = await createSightingContext({
    module: addAnalystData,
    misp,
    params: {
      target: "Attribute",
      analyst_data_type: "Opinion",
      opinion: "80",
      comment: "Reliable",
    },
  });
  assert.equal(await addAnalystData.exec(run.context), true);
  assert.deepEqual(misp.requests.map((request) => request.path), [
    `/analyst_data/add/Opinion/${COMMENT_UUID}/Attribute`,
    `/analyst_data/add/Opinion/${TARGET_UUID}/Attribute`,
  ]);
  assert.deepEqual(misp.requests[0]?.body, {
    Opinion: { distribution: "0", sharing_group_id: "0", opinion: "80", comment: "Reliable" },
  });
  assert.deepEqual(misp.state.analystData.map((entry) => entry.type), ["Opinion", "Opinion"]);
});

Deno.test("add_analyst_data sends the sharing group only with distribution 4", async (t) => {
  for (const [distribution, group] of [["4", "7"], ["1", "0"]] as const) {
    await t.step(`distribution ${distribution}`, async () => {
      await using misp = await startSightingMisp();
      const run = await createSightingContext({
        module: addAnalystData,
        misp,
        params: {
          analyst_data_type: "Relationship",
          distribution,
          sharing_group_id: "7",
          relationship_type: "related-to",
          related_object_uuid: TARGET_UUID,
        },
      });
      assert.equal(await addAnalystData.exec(run.context), true);
      assert.deepEqual(misp.requests[0]?.body, {
        Relationship: {
          distribution,
          sharing_group_id: group,
          relationship_type: "related-to",
          related_object_type: "Event",
          related_object_uuid: TARGET_UUID,
        },
      });
    });
  }
});

Deno.test("add_analyst_data acts on the items the filters select", async () => {
  await using misp = await startSightingMisp();
  const run = await createSightingContext({
    module: addAnalystData,
    misp,
    params: { target: "Attribute", note: "Target" },
    filters: {
      selector: "Event._AttributeFlattened.{n}",
      path: "type",
      operator: "equals",
      value: "target-external",
    },
  });
  assert.equal(await addAnalystData.exec(run.context), true);
  assert.deepEqual(misp.requests.map((request) => request.path), [
    `/analyst_data/add/Note/${TARGET_UUID}/Attribute`,
  ]);
});

Deno.test("add_analyst_data skips elements without a valid uuid and fails when none is left", async () => {
  await using misp = await startSightingMisp();
  const data = coreFormat(await sightingEvent());
  for (const attribute of (data.Event as JsonObject)._AttributeFlattened as JsonObject[]) {
    attribute.uuid = "not-a-uuid";
  }
  const run = createModuleContext({
    module: addAnalystData,
    data,
    misp,
    params: { target: "Attribute", note: "x" },
  });
  assert.equal(await addAnalystData.exec(run.context), false);
  assert.equal(misp.requests.length, 0);
});

Deno.test("add_analyst_data records the calls in a dry run and sends none", async () => {
  await using misp = await startSightingMisp();
  const run = await createSightingContext({
    module: addAnalystData,
    misp,
    dryRun: true,
    params: { target: "Attribute", note: "x" },
  });
  assert.equal(await addAnalystData.exec(run.context), true);
  assert.equal(misp.requests.length, 0);
  assert.deepEqual(run.records.map((record) => [record.dry, record.method, record.url]), [
    [true, "POST", `/analyst_data/add/Note/${COMMENT_UUID}/Attribute`],
    [true, "POST", `/analyst_data/add/Note/${TARGET_UUID}/Attribute`],
  ]);
});

Deno.test("add_analyst_data reports MISP's refusal and retries transient failures", async (t) => {
  await t.step("a refusal is an error of the node", async () => {
    await using misp = await startSightingMisp();
    misp.failNext({ status: 403, body: { name: "Invalid target.", message: "Invalid target." } });
    const run = await createSightingContext({
      module: addAnalystData,
      misp,
      params: { note: "x" },
    });
    assert.equal(await addAnalystData.exec(run.context), false);
    assert.equal(run.context.errors.length, 1);
    assert.match(
      run.context.errors[0]!,
      new RegExp(`^Cannot add a Note to Event "${EVENT_UUID}": `),
    );
    assert.match(run.context.errors[0]!, /Invalid target/);
  });
  await t.step("a 5xx is transient", async () => {
    await using misp = await startSightingMisp();
    misp.failNext({ status: 503 });
    const run = await createSightingContext({
      module: addAnalystData,
      misp,
      params: { note: "x" },
    });
    await assert.rejects(
      () => addAnalystData.exec(run.context) as Promise<boolean>,
      TransientError,
    );
  });
});
