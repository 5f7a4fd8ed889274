import assert from "node:assert/strict";
import { setLogSink } from "../../engine/log.ts";
import { offlineServices } from "../../modules/offline_services.ts";
import { ensureAdminToken } from "../../store/admin_token.ts";
import { MAX_RUN_EVENT_INFO_CHARS } from "../../store/keys.ts";
import { getRun, getRunInput, listRuns, type RunToSave } from "../../store/runs.ts";
import { createWorkflow } from "../../store/workflows.ts";
import { createApp } from "../../server/app.ts";
import { createAppContext } from "../../services/context.ts";
import { loadConfig } from "../../services/config.ts";
import { GroupCommitter } from "../../services/group_commit.ts";
import { Metrics } from "../../services/metrics.ts";
import {
  decideVerdict,
  MAX_VERDICT_REASON_CHARS,
  verdictBody,
  VerdictUnavailableError,
} from "../../services/verdict.ts";
import { node, workflowOf } from "../engine/fake_modules.ts";
import {
  ADMIN_TOKEN,
  HOOK_TOKEN,
  LOOPBACK_ENV,
  mispQuery,
  realEvent,
  startTestApp,
} from "../server/test_app.ts";

/** The README's own workflow: block tlp:red publications, naming the event. */
const BLOCK_RED_YAML = `
name: block-tlp-red-publication
description: Block publishing tlp:red events
trigger: event-publish
enabled: true
start: tlp-red
nodes:
  tlp-red:
    module: tag-if
    params: { scope: event, condition: in_or, tags: [tlp:red] }
    then: stop
  stop:
    module: stop-execution
    params: { message: "Publication of {{ Event.info }} blocked" }
`;

const SIZES = [["40 KB", 40_000], ["300 KB", 300_000], ["5 MB", 5_000_000]] as const;

type EventDoc = {
  Event: {
    info: string;
    Tag?: { name: string }[];
    Attribute: { value: string; comment?: string }[];
  };
};

/** A tlp:red event (tag on the event) with one field `size` characters long. */
async function redEvent(field: string, size: number): Promise<EventDoc> {
  const event = await realEvent() as unknown as EventDoc;
  event.Event.Tag = [...(event.Event.Tag ?? []), { name: "tlp:red" }];
  const long = "A".repeat(size);
  if (field === "info") event.Event.info = long;
  if (field === "tag name") event.Event.Tag.push({ name: long });
  if (field === "attribute value") event.Event.Attribute[0]!.value = long;
  if (field === "attribute comment") event.Event.Attribute[0]!.comment = long;
  return event;
}

Deno.test("/query blocks a tlp:red event with oversized fields and stores its run", async (t) => {
  for (const field of ["info", "tag name", "attribute value", "attribute comment"]) {
    for (const [label, size] of SIZES) {
      await t.step(`${field}, ${label}`, async () => {
        await using test = await startTestApp();
        const created = await test.admin("/api/workflows", {
          method: "POST",
          headers: { "Content-Type": "application/yaml" },
          body: BLOCK_RED_YAML,
        });
        assert.equal(created.status, 201, await created.clone().text());
        const event = await redEvent(field, size);

        const response = await mispQuery(test, "flowgate_event_publish", event);
        assert.equal(response.status, 200);
        assert.match(response.headers.get("Content-Type") ?? "", /application\/json/);
        const body = await response.json();
        assert.equal(typeof body.error, "string", "a block, not an allow");
        assert.ok(body.error.length < MAX_VERDICT_REASON_CHARS + 200, "the reason is capped");
        // A message template's output is capped too: 5 MB of info fails the node, still a block.
        const rendered = field !== "info" || size < 1_000_000;
        const reason = rendered ? /returned the following error: Publication of / : /Template/;
        assert.ok(reason.test(body.error), body.error.slice(0, 300));

        const [summary] = (await listRuns(test.kv)).items;
        const run = await getRun(test.kv, summary!.id);
        assert.ok(
          run?.outcome === "blocked" || run?.outcome === "failure",
          `outcome ${run?.outcome}`,
        );
        const input = await getRunInput(test.kv, summary!.id) as EventDoc;
        assert.ok(JSON.stringify(input).length > size, "the whole input is stored");
        if (field !== "info") return;
        const infoCut = new RegExp(
          `^A{${MAX_RUN_EVENT_INFO_CHARS}}… \\[cut: [\\d,]+ more characters; whole text in the run's input\\]$`,
        );
        assert.ok(
          infoCut.test(run?.event?.info ?? ""),
          `info ends ${run?.event?.info?.slice(-100)}`,
        );
        assert.equal(input.Event.info.length, size);
        if (rendered) {
          assert.ok(
            /… \[cut: [\d,]+ more characters; whole text in Flowgate run /.test(body.error),
          );
          assert.ok(run?.errors[0]?.endsWith(`Publication of ${"A".repeat(size)} blocked`));
        }
      });
    }
  }
});

/** `kv`, except that every commit writing a run summary fails as a busy store would. */
function failingRunWrites(kv: Deno.Kv): Deno.Kv {
  return new Proxy(kv, {
    get(target, property) {
      if (property === "atomic") return () => failingAtomic(target.atomic());
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function failingAtomic(op: Deno.AtomicOperation): Deno.AtomicOperation {
  let writesRun = false;
  const wrapper: Deno.AtomicOperation = new Proxy(op, {
    get(target, property) {
      if (property === "commit") {
        return () => writesRun ? Promise.reject(new Error("database is locked")) : target.commit();
      }
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (property === "set" && (args[0] as Deno.KvKey)[0] === "runs") writesRun = true;
        const result = value.apply(target, args);
        return result === target ? wrapper : result;
      };
    },
  });
  return wrapper;
}

Deno.test("/query still blocks when the run cannot be stored, and counts the failure", async () => {
  using kv = await Deno.openKv(":memory:");
  const env: Record<string, string> = {
    FLOWGATE_ADMIN_TOKEN: ADMIN_TOKEN,
    FLOWGATE_HOOK_TOKEN: HOOK_TOKEN,
    FLOWGATE_KV: ":memory:",
  };
  const config = loadConfig((name) => env[name]);
  await ensureAdminToken(kv, config.adminToken);
  const stop = workflowOf("event-publish", [
    node("trigger", "event-publish", "trigger", [["stop"]]),
    node("stop", "stop-execution", "action", [], { message: "Not today" }),
  ], "blocker");
  await createWorkflow(kv, stop, { actor: "test", sourceFormat: "yaml" });
  const metrics = new Metrics();
  const app = createApp(createAppContext({
    kv: failingRunWrites(kv),
    config,
    services: offlineServices(),
    metrics,
    proxy: null,
  }));
  const lines: string[] = [];
  const previous = setLogSink((line) => lines.push(line));
  try {
    const response = await app.request("/query", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ module: "flowgate_event_publish", data: await realEvent() }),
    }, LOOPBACK_ENV);
    assert.equal(response.status, 200);
    assert.match((await response.json()).error, /returned the following error: Not today$/);
  } finally {
    setLogSink(previous);
  }
  assert.deepEqual((await listRuns(kv)).items, []);
  const text = metrics.render({ deadLetters: 0, workflowsEnabled: 1 });
  assert.match(text, /^flowgate_run_store_failures_total\{trigger="event-publish"\} 1$/m);
  assert.match(text, /^flowgate_verdicts_total\{trigger="event-publish",verdict="block"\} 1$/m);
  const logged = lines.map((line) => JSON.parse(line)).find((line) =>
    line.message.startsWith("Cannot store the runs of a verdict")
  );
  assert.equal(logged?.level, "error");
  assert.equal(logged?.verdict, "block");
  assert.equal(logged?.run_ids.length, 1);
});

Deno.test("decideVerdict() answers and announces a block whose runs cannot be stored", async () => {
  await using test = await startTestApp();
  await createWorkflow(
    test.kv,
    workflowOf("event-publish", [
      node("trigger", "event-publish", "trigger", [["stop"]]),
      node("stop", "stop-execution", "action", [], { message: "Not today" }),
    ], "blocker"),
    { actor: "test", sourceFormat: "yaml" },
  );
  const announced: string[] = [];
  const ctx = {
    ...test.ctx,
    runs: new GroupCommitter<RunToSave[], void>(
      () => Promise.reject(new TypeError("Value too large")),
      1,
    ),
    announceBlockedRun: (run: { id: string }) => void announced.push(run.id),
  };
  const previous = setLogSink(() => {});
  try {
    const verdict = await decideVerdict(ctx, "event-publish", await realEvent(), {
      actor: { kind: "misp" },
    });
    assert.equal(verdict.allow, false);
    assert.match(verdict.errors.join("\n"), /Not today$/);
    assert.deepEqual(announced, verdict.runIds);
  } finally {
    setLogSink(previous);
  }
});

Deno.test("decideVerdict() throws VerdictUnavailableError when the workflows cannot be read", async () => {
  await using test = await startTestApp();
  test.kv.close();
  const error = await decideVerdict(test.ctx, "event-publish", await realEvent(), {
    actor: { kind: "misp" },
  }).then(() => null, (thrown) => thrown);
  assert.ok(error instanceof VerdictUnavailableError);
  assert.equal(error.name, "VerdictUnavailableError");
  assert.equal(error.trigger, "event-publish");
  assert.match(error.message, /^Cannot decide on trigger "event-publish": /);
  assert.ok(error.cause !== undefined);
});

Deno.test("verdictBody() caps the reason MISP is answered", async (t) => {
  await t.step("short reasons are joined whole", () => {
    assert.deepEqual(verdictBody({ allow: false, errors: ["a", "", "b"], runIds: ["R1"] }), {
      error: "a\nb",
    });
  });
  await t.step("5 MB of reasons become a capped text with a marker naming the run", () => {
    const body = verdictBody({
      allow: false,
      errors: ["x".repeat(5_000_000), "y".repeat(10)],
      runIds: ["R1", "R2"],
    }) as { error: string };
    assert.equal(
      body.error,
      "x".repeat(MAX_VERDICT_REASON_CHARS) +
        "… [cut: 4,983,627 more characters; whole text in Flowgate run R2]",
    );
  });
});
