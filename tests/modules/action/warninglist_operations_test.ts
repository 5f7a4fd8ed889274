import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { addToWarninglist } from "../../../modules/action/add_to_warninglist.ts";
import { attachWarninglist } from "../../../modules/action/attach_warninglist.ts";
import { createSightingContext, startSightingMisp } from "./misp_test_context.ts";

function warninglists(): JsonObject[] {
  return [
    {
      id: "3",
      name: "Test values",
      type: "string",
      category: "false_positive",
      description: "Values used in tests",
      matching_attributes: ["target-external", "comment"],
      enabled: true,
      default: false,
      version: 1,
      WarninglistEntry: [{ id: "1", value: "testvalue", comment: "seen in tests" }],
    },
    {
      id: "4",
      name: "Other list",
      type: "string",
      category: "known",
      enabled: true,
      WarninglistEntry: [{ id: "1", value: "testvalue", comment: null }],
    },
  ];
}

Deno.test("attach-warninglist puts the hits of IDS attributes on them and on the event", async (t) => {
  await t.step("every list", async () => {
    await using misp = await startSightingMisp({ warninglists: warninglists() });
    const run = await createSightingContext({ module: attachWarninglist, misp });
    assert.equal(await attachWarninglist.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => [request.method, request.path, request.body]), [
      ["POST", "/warninglists/checkValue", ["testvalue"]],
      ["GET", "/warninglists/index", undefined],
    ]);
    const event = run.data().Event as JsonObject;
    assert.deepEqual(event.warnings, [
      { id: "3", name: "Test values", category: "false_positive" },
      { id: "4", name: "Other list", category: "known" },
    ]);
    const target = (event._AttributeFlattened as JsonObject[])[1];
    assert.deepEqual(target?.warnings, [
      {
        value: "testvalue",
        match: "testvalue",
        warninglist_id: "3",
        warninglist_name: "Test values",
        warninglist_category: "false_positive",
      },
      {
        value: "testvalue",
        match: "testvalue",
        warninglist_id: "4",
        warninglist_name: "Other list",
        warninglist_category: "known",
      },
    ]);
    assert.deepEqual((event.Attribute as JsonObject[])[1]?.warnings, target?.warnings);
    assert.equal((event._AttributeFlattened as JsonObject[])[0]?.warnings, undefined);
  });

  await t.step("only the chosen lists", async () => {
    await using misp = await startSightingMisp({ warninglists: warninglists() });
    const run = await createSightingContext({
      module: attachWarninglist,
      params: { warninglists: ["Other list"] },
      misp,
    });
    assert.equal(await attachWarninglist.exec(run.context), true);
    assert.deepEqual((run.data().Event as JsonObject).warnings, [
      { id: "4", name: "Other list", category: "known" },
    ]);
  });
});

Deno.test("add_to_warninglist appends new values to the list", async (t) => {
  await t.step("reads the list, then writes it whole with the new values", async () => {
    await using misp = await startSightingMisp({ warninglists: warninglists() });
    const run = await createSightingContext({
      module: addToWarninglist,
      params: { warninglist: "3" },
      misp,
    });
    assert.equal(await addToWarninglist.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => [request.method, request.path]), [
      ["GET", "/warninglists/view/3"],
      ["POST", "/warninglists/edit/3"],
    ]);
    assert.deepEqual(misp.requests[1]?.body, {
      Warninglist: {
        name: "Test values",
        type: "string",
        category: "false_positive",
        description: "Values used in tests",
        matching_attributes: ["target-external", "comment"],
        entries: "testvalue # seen in tests\nValue to test",
      },
    });
    const entries = misp.state.warninglists.get("3")?.WarninglistEntry as JsonObject[];
    assert.deepEqual(entries.map((entry) => entry.value), ["testvalue", "Value to test"]);
  });

  await t.step("writes nothing when every value is already listed", async () => {
    await using misp = await startSightingMisp({ warninglists: warninglists() });
    const run = await createSightingContext({
      module: addToWarninglist,
      params: { warninglist: "3" },
      filters: {
        selector: "Event._AttributeFlattened.{n}",
        value: "testvalue",
        operator: "equals",
        path: "value",
      },
      misp,
    });
    assert.equal(await addToWarninglist.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => request.path), ["/warninglists/view/3"]);
  });

  await t.step("dry run records the read and the edit, sends nothing", async () => {
    await using misp = await startSightingMisp({ warninglists: warninglists() });
    const run = await createSightingContext({
      module: addToWarninglist,
      params: { warninglist: "3" },
      misp,
      dryRun: true,
    });
    assert.equal(await addToWarninglist.exec(run.context), true);
    assert.equal(misp.requests.length, 0);
    assert.deepEqual(run.records.map((record) => [record.dry, record.method, record.url]), [
      [true, "GET", "/warninglists/view/3"],
      [true, "POST", "/warninglists/edit/3"],
    ]);
    assert.deepEqual(run.records[1]?.details?.append, ["Value to test", "testvalue"]);
  });
});
