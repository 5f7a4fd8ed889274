import assert from "node:assert/strict";
import { setLogSink } from "../../engine/log.ts";
import type { ModuleLookup } from "../../engine/walker.ts";
import { TransientError } from "../../engine/module_errors.ts";
import type { WorkflowModule } from "../../engine/module.ts";
import { MODULE_REGISTRY } from "../../modules/registry.ts";
import { listDeadLetters } from "../../store/dead_letters.ts";
import { getRun, listRuns, type RunToSave, saveRuns } from "../../store/runs.ts";
import { createWorkflow } from "../../store/workflows.ts";
import { createConsole } from "../../server/console/app.tsx";
import type { AppContext } from "../../services/context.ts";
import { GroupCommitter } from "../../services/group_commit.ts";
import type { InFlightRuns } from "../../services/in_flight.ts";
import { acceptIntake } from "../../services/intake.ts";
import { createQueueHandler } from "../../services/queue.ts";
import { descriptor, fakeAction, node, workflowOf } from "../engine/fake_modules.ts";
import {
  ADMIN_TOKEN,
  HOOK_TOKEN,
  mispQuery,
  realEvent,
  startTestApp,
  type TestApp,
} from "../server/test_app.ts";
import { waitFor } from "../fixtures/wait_for.ts";

function withModules(...extra: WorkflowModule[]): ModuleLookup {
  const byId = new Map(extra.map((module) => [module.descriptor.id, module]));
  return { getModule: (id) => byId.get(id) ?? MODULE_REGISTRY.getModule(id) };
}

/** An action that fails transiently `failures` times, then succeeds. */
function flakyThenOk(failures: number): WorkflowModule & { calls: number } {
  const module = {
    calls: 0,
    descriptor: descriptor("flaky-then-ok", "action"),
    exec() {
      module.calls++;
      if (module.calls <= failures) throw new TransientError("Sink answered 503");
      return true;
    },
  };
  return module;
}

async function createAfterSave(test: TestApp, module: string): Promise<void> {
  await createWorkflow(
    test.kv,
    workflowOf("event-after-save", [
      node("trigger", "event-after-save", "trigger", [["send"]]),
      node("send", module, "action"),
    ]),
    { actor: "test", sourceFormat: "yaml" },
  );
}

/** Silences the logger for the duration of `body`, returning the lines it wrote. */
async function quietly(body: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const previous = setLogSink((line) => lines.push(line));
  try {
    await body();
  } finally {
    setLogSink(previous);
  }
  return lines.map((line) => JSON.parse(line));
}

Deno.test("an acknowledged webhook with a 100,000-character info gets its run stored", async () => {
  const calls: string[] = [];
  await using test = await startTestApp({ modules: withModules(fakeAction("count", calls)) });
  await createAfterSave(test, "count");
  const listener = test.kv.listenQueue(createQueueHandler(test.ctx));
  const event = await realEvent() as { Event: { info: string } };
  event.Event.info = "i".repeat(100_000);

  const response = await test.request("/hooks/misp/event-after-save", {
    method: "POST",
    headers: { "Authorization": `Bearer ${HOOK_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify(event),
  });
  assert.equal(response.status, 202);
  const { run_ids: runIds } = await response.json();
  assert.equal(runIds.length, 1);

  await waitFor(async () => (await getRun(test.kv, runIds[0])) !== null, { timeoutMs: 3_000 });
  const run = await getRun(test.kv, runIds[0]);
  assert.equal(run?.outcome, "success");
  assert.match(
    run?.event?.info ?? "",
    /… \[cut: 97,952 more characters; whole text in the run's input\]$/,
  );
  assert.deepEqual(calls, ["send"]);
  assert.deepEqual((await listDeadLetters(test.kv)).items, []);
  test.kv.close();
  await listener;
});

/** The committer of `ctx`, except that runs not already failures are refused with `error`. */
function refusingCommitter(ctx: AppContext, error: Error): GroupCommitter<RunToSave[], void> {
  return new GroupCommitter<RunToSave[], void>(async (batches) => {
    if (batches.flat().some((item) => item.run.outcome !== "failure")) throw error;
    await saveRuns(ctx.kv, batches.flat(), { retentionDays: 1 });
    return batches.map((): void => undefined);
  }, 8);
}

async function intakeMessage(test: TestApp) {
  const intake = await acceptIntake(test.ctx, "event-after-save", await realEvent(), {
    actor: { kind: "webhook" },
  });
  return {
    runId: intake.runIds[0]!,
    message: {
      type: "intake",
      intake_id: intake.intakeId,
      trigger: "event-after-save",
      run_ids: intake.runIds,
    },
  };
}

Deno.test("a queue run failing on a deterministic error is stored as a failure, not redelivered", async (t) => {
  await t.step("the run's record cannot be stored (RangeError)", async () => {
    const calls: string[] = [];
    await using test = await startTestApp({ modules: withModules(fakeAction("count", calls)) });
    await createAfterSave(test, "count");
    const { runId, message } = await intakeMessage(test);
    const ctx = {
      ...test.ctx,
      runs: refusingCommitter(test.ctx, new RangeError("Summary over the limit")),
    };
    const logged = await quietly(() => createQueueHandler(ctx)(message));
    const run = await getRun(test.kv, runId);
    assert.equal(run?.outcome, "failure");
    assert.deepEqual(run?.errors, [
      "Flowgate could not store this run: RangeError: Summary over the limit",
    ]);
    assert.ok(logged.some((line) => line.level === "error" && line.run_id === runId));
    // A redelivery finds the run and runs nothing again.
    await createQueueHandler(test.ctx)(message);
    assert.deepEqual(calls, ["send"]);
  });

  await t.step("our code throws while running it (RangeError)", async () => {
    await using test = await startTestApp();
    await createAfterSave(test, "stop-execution");
    const { runId, message } = await intakeMessage(test);
    const inFlight = {
      ancestryOf: () => {
        throw new RangeError("Data nested too deep");
      },
      enter: () => () => {},
    } as unknown as InFlightRuns;
    await quietly(() => createQueueHandler({ ...test.ctx, inFlight })(message));
    const run = await getRun(test.kv, runId);
    assert.equal(run?.outcome, "failure");
    assert.deepEqual(run?.errors, [
      "Flowgate could not run this workflow: RangeError: Data nested too deep",
    ]);
    assert.equal(run?.trigger, "event-after-save");
  });
});

Deno.test("a queue run failing on a transient store error is thrown for redelivery", async () => {
  await using test = await startTestApp();
  await createAfterSave(test, "stop-execution");
  const { runId, message } = await intakeMessage(test);
  const ctx = { ...test.ctx, runs: refusingCommitter(test.ctx, new Error("database is locked")) };
  await assert.rejects(() => createQueueHandler(ctx)(message), /database is locked/);
  assert.equal(await getRun(test.kv, runId), null);
  // The redelivery, once the store is back, stores it.
  await createQueueHandler(test.ctx)(message);
  assert.equal((await getRun(test.kv, runId))?.outcome, "blocked");
});

Deno.test("a retried action is an attempt of its run: retrying, then success, no run of its own", async () => {
  const flaky = flakyThenOk(1);
  await using test = await startTestApp({ modules: withModules(flaky) });
  await createAfterSave(test, "flaky-then-ok");
  const handler = createQueueHandler(test.ctx, { retryBaseMs: 400 });
  const listener = test.kv.listenQueue(handler);
  const { runIds: [runId] } = await acceptIntake(test.ctx, "event-after-save", await realEvent(), {
    actor: { kind: "webhook" },
  });

  // The run is stored first, then its retry is enqueued, then its first attempt recorded.
  await waitFor(async () => {
    const run = await getRun(test.kv, runId!);
    return run?.outcome === "retrying" && (run.attempts?.length ?? 0) > 0;
  }, { timeoutMs: 3_000 });
  const retrying = await getRun(test.kv, runId!);
  assert.equal(retrying?.attempts?.length, 1);
  assert.equal(retrying?.attempts?.[0]?.ok, false);
  assert.equal(retrying?.attempts?.[0]?.error, "Sink answered 503");
  assert.ok(retrying?.attempts?.[0]?.next_try_at);
  assert.deepEqual((await listRuns(test.kv, { outcome: "retrying" })).items.map((r) => r.id), [
    runId,
  ]);

  await waitFor(async () => (await getRun(test.kv, runId!))?.outcome === "success", {
    timeoutMs: 5_000,
  });
  const run = await getRun(test.kv, runId!);
  assert.deepEqual(run?.attempts?.map((a) => [a.attempt, a.node_id, a.ok]), [
    [1, "send", false],
    [2, "send", true],
  ]);
  assert.equal(run?.success, true);
  assert.equal(flaky.calls, 2);
  assert.deepEqual((await listRuns(test.kv)).items.map((r) => r.id), [runId]);
  assert.deepEqual((await listRuns(test.kv, { outcome: "retrying" })).items, []);

  const api = await test.admin(`/api/runs/${runId}`);
  assert.equal(api.status, 200);
  assert.deepEqual((await api.json()).attempts, run?.attempts);
  const filtered = await test.admin("/api/runs?outcome=retrying");
  assert.equal(filtered.status, 200);

  const page = await consolePage(test, `/runs/${runId}`);
  assert.match(page, /Retries of failed actions/);
  assert.match(page, /data-attempt="send#1"/);
  assert.match(page, /data-attempt="send#2"/);
  assert.match(page, /Sink answered 503/);
  test.kv.close();
  await listener;
});

Deno.test("a verdict run's retried action settles the stored verdict run", async () => {
  const flaky = flakyThenOk(1);
  await using test = await startTestApp({ modules: withModules(flaky) });
  await createWorkflow(
    test.kv,
    workflowOf("event-publish", [
      node("trigger", "event-publish", "trigger", [["send"]]),
      node("send", "flaky-then-ok", "action"),
    ]),
    { actor: "test", sourceFormat: "yaml" },
  );
  // The verdict path schedules the first retry (ACTION_RETRY_BASE_MS later) once the run is stored.
  const listener = test.kv.listenQueue(createQueueHandler(test.ctx, { retryBaseMs: 0 }));
  const response = await mispQuery(test, "flowgate_event_publish", await realEvent());
  assert.deepEqual(await response.json(), { data: true });
  const [summary] = (await listRuns(test.kv)).items;
  assert.equal(summary?.outcome, "retrying");
  await waitFor(async () => (await getRun(test.kv, summary!.id))?.outcome === "success", {
    timeoutMs: 8_000,
  });
  assert.equal((await listRuns(test.kv)).items.length, 1);
  test.kv.close();
  await listener;
});

/** Signs in to the console and GETs `path`'s HTML. */
async function consolePage(test: TestApp, path: string): Promise<string> {
  const app = createConsole(test.ctx);
  const cookies = new Map<string, string>();
  const request = async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("Cookie", [...cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    const response = await app.request(url, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [name = "", value = ""] = (line.split(";")[0] ?? "").split("=");
      if (value) cookies.set(name, value);
    }
    return response;
  };
  const form = await (await request("/sign-in")).text();
  const csrf = form.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? "";
  const signIn = await request("/sign-in", {
    method: "POST",
    headers: { Origin: "http://localhost" },
    body: new URLSearchParams({ _csrf: csrf, token: ADMIN_TOKEN, next: "/workflows" }),
  });
  assert.equal(signIn.status, 303);
  const page = await request(path);
  assert.equal(page.status, 200);
  return await page.text();
}
