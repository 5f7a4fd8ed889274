import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { runWorkflowAction } from "../../../modules/action/run_workflow_action.ts";
import { IntegrationMissingError } from "../../../engine/module_errors.ts";
import type { NestedRunOptions, WorkflowRunner } from "../../../engine/module_services.ts";
import type { FakeMisp } from "../../fakes/misp_server.ts";
import { coreFormat, sightingEvent, startSightingMisp } from "./misp_test_context.ts";
import { createMispClient } from "../../../modules/action/lib/misp_client.ts";
import { createNodeContext } from "./node_test_context.ts";
import { successfulRun } from "../../engine/fake_modules.ts";

const EVENT_UUID = "5c6ab833-676c-42f3-95d2-034f0a00020f";

interface RunnerCall {
  name: string;
  data: JsonObject;
  options: NestedRunOptions;
}

/** A runner that records its calls and lets `effect` change MISP as a nested run would. */
function recordingRunner(
  calls: RunnerCall[],
  effect: (name: string) => void = () => {},
): WorkflowRunner {
  return (name, data, options) => {
    calls.push({ name, data, options });
    effect(name);
    return Promise.resolve(successfulRun());
  };
}

async function runWorkflowContext(
  options: {
    params: Record<string, unknown>;
    misp: FakeMisp | null;
    runner: WorkflowRunner | null;
    dryRun?: boolean;
    filters?: { selector: string; path: string; operator: string; value: string };
  },
) {
  const { misp } = options;
  return createNodeContext({
    module: runWorkflowAction,
    data: coreFormat(await sightingEvent()),
    params: options.params,
    dryRun: options.dryRun ?? false,
    ...(options.filters ? { filters: options.filters } : {}),
    renderTemplate: (text) => text,
    services: {
      misp: misp
        ? createMispClient({ url: misp.url, apiKey: misp.apiKey, tlsVerify: true, retries: 0 })
        : null,
      secrets: misp ? [misp.apiKey] : [],
      runWorkflow: options.runner,
    },
  });
}

Deno.test("run-workflow runs each workflow on the roaming data, then reloads the event", async () => {
  await using misp = await startSightingMisp();
  const calls: RunnerCall[] = [];
  const runner = recordingRunner(calls, (name) => {
    const event = misp.event("1")!;
    event.Tag = [...(event.Tag as JsonObject[]), { id: "90", name: `ran:${name}`, local: true }];
  });
  const run = await runWorkflowContext({
    params: { workflows: ["enrich", "notify"], input_data: "roaming_data" },
    misp,
    runner,
  });
  const data = run.data();
  assert.equal(await runWorkflowAction.exec(run.context), true);
  assert.deepEqual(run.context.errors, []);
  assert.deepEqual(calls.map((call) => call.name), ["enrich", "notify"]);
  assert.deepEqual(calls[0]?.data, data);
  assert.equal(calls[0]?.options.caller, "test");
  assert.deepEqual(misp.requests.map((request) => `${request.method} ${request.path}`), [
    "GET /events/view/1",
  ]);
  const tags = ((run.data().Event as JsonObject).Tag as JsonObject[]).map((tag) => tag.name);
  assert.ok(tags.includes("ran:enrich") && tags.includes("ran:notify"), "reloaded from MISP");
  assert.deepEqual(run.records.map((record) => [record.kind, record.summary]), [
    ["workflow", `run workflow "enrich" on event ${EVENT_UUID}: success`],
    ["workflow", `run workflow "notify" on event ${EVENT_UUID}: success`],
    ["misp", "GET /events/view/1: reload event 1"],
  ]);
});

Deno.test("run-workflow passes no data by default and skips the reload without MISP", async () => {
  const inputData = runWorkflowAction.descriptor.params.find((param) => param.id === "input_data");
  assert.equal(inputData?.default, "yes", "MISP's declared default, no option: nothing is passed");
  const calls: RunnerCall[] = [];
  const run = await runWorkflowContext({
    params: { workflows: ["enrich"] },
    misp: null,
    runner: recordingRunner(calls),
  });
  assert.equal(run.context.params.input_data, "yes");
  const before = JSON.stringify(run.data());
  assert.equal(await runWorkflowAction.exec(run.context), true);
  assert.deepEqual(calls.map((call) => [call.name, call.data]), [["enrich", {}]]);
  assert.equal(JSON.stringify(run.data()), before);
});

Deno.test("run-workflow passes the events named by uuid, as MISP holds them", async (t) => {
  await t.step("Event.uuid without filters", async () => {
    await using misp = await startSightingMisp();
    misp.event("1")!.info = "Changed in MISP";
    const calls: RunnerCall[] = [];
    const run = await runWorkflowContext({
      params: { workflows: ["enrich"], input_data: "event_ids" },
      misp,
      runner: recordingRunner(calls),
    });
    assert.equal(await runWorkflowAction.exec(run.context), true);
    assert.equal(misp.requests[0]?.path, `/events/view/${EVENT_UUID}`);
    assert.equal((calls[0]?.data.Event as JsonObject).info, "Changed in MISP");
  });
  await t.step("filters that match nothing run nothing", async () => {
    await using misp = await startSightingMisp();
    const calls: RunnerCall[] = [];
    const run = await runWorkflowContext({
      params: { workflows: ["enrich"], input_data: "event_ids" },
      misp,
      runner: recordingRunner(calls),
      filters: { selector: "", path: "Event.info", operator: "equals", value: "nope" },
    });
    assert.equal(await runWorkflowAction.exec(run.context), true);
    assert.equal(calls.length, 0);
  });
});

Deno.test("run-workflow refuses no workflow, itself, and a missing runner", async (t) => {
  const calls: RunnerCall[] = [];
  await t.step("no workflow selected", async () => {
    const run = await runWorkflowContext({
      params: {},
      misp: null,
      runner: recordingRunner(calls),
    });
    assert.equal(await runWorkflowAction.exec(run.context), false);
    assert.deepEqual(run.context.errors, ["No workflow selected"]);
  });
  await t.step("its own workflow", async () => {
    const run = await runWorkflowContext({
      params: { workflows: ["other", "test"] },
      misp: null,
      runner: recordingRunner(calls),
    });
    assert.equal(await runWorkflowAction.exec(run.context), false);
    assert.deepEqual(run.context.errors, ['Cannot run workflow "test" from itself']);
  });
  assert.equal(calls.length, 0);
  await t.step("no runner", async () => {
    const run = await runWorkflowContext({
      params: { workflows: ["x"] },
      misp: null,
      runner: null,
    });
    await assert.rejects(
      () => runWorkflowAction.exec(run.context) as Promise<boolean>,
      (error) =>
        error instanceof IntegrationMissingError &&
        error.message === "This module needs the workflow runner (services.runWorkflow) to be set",
    );
  });
});

Deno.test("run-workflow records the runs on events it would read in a dry run", async () => {
  await using misp = await startSightingMisp();
  const calls: RunnerCall[] = [];
  const run = await runWorkflowContext({
    params: { workflows: ["enrich"], input_data: "event_ids" },
    misp,
    runner: recordingRunner(calls),
    dryRun: true,
  });
  assert.equal(await runWorkflowAction.exec(run.context), true);
  assert.equal(calls.length, 0);
  assert.equal(misp.requests.length, 0);
  assert.deepEqual(run.records.map((record) => [record.kind, record.dry, record.summary]), [
    ["misp", true, `GET /events/view/${EVENT_UUID}: read event ${EVENT_UUID} for the workflows`],
    ["workflow", true, `run workflow "enrich" on event ${EVENT_UUID}`],
  ]);
});

Deno.test("run-workflow runs the workflows as dry runs in a dry run", async (t) => {
  await t.step("with a runner: a nested dry run", async () => {
    const calls: RunnerCall[] = [];
    const run = await runWorkflowContext({
      params: { workflows: ["enrich"], input_data: "roaming_data" },
      misp: null,
      runner: recordingRunner(calls),
      dryRun: true,
    });
    assert.equal(await runWorkflowAction.exec(run.context), true);
    assert.deepEqual(calls.map((call) => [call.name, call.options.dryRun]), [["enrich", true]]);
    assert.deepEqual(run.records.map((record) => [record.dry, record.summary]), [
      [true, `run workflow "enrich" on event ${EVENT_UUID}: success`],
    ]);
  });
  await t.step("without a runner: only recorded", async () => {
    const run = await runWorkflowContext({
      params: { workflows: ["enrich"] },
      misp: null,
      runner: null,
      dryRun: true,
    });
    assert.equal(await runWorkflowAction.exec(run.context), true);
    assert.deepEqual(run.records.map((record) => [record.dry, record.summary]), [
      [true, 'run workflow "enrich" on no data'],
    ]);
  });
});
