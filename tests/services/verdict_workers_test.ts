import assert from "node:assert/strict";
import type { JsonObject, TraceEntry } from "../../engine/model.ts";
import { parseWorkflowYaml } from "../../engine/yaml_codec.ts";
import { offlineServices } from "../../modules/offline_services.ts";
import { ENGINE_LOOKUPS, MODULE_CATALOG } from "../../modules/registry.ts";
import { parseQueryEnvelope } from "../../server/routes/misp_modules.ts";
import { dataFingerprint } from "../../engine/run_workflow.ts";
import { sha256Hex } from "../../store/chunks.ts";
import type { StoredWorkflow } from "../../store/types.ts";
import { walkVerdict } from "../../services/verdict.ts";
import type { VerdictWorkerAnswer } from "../../services/verdict_worker_protocol.ts";
import {
  type VerdictRequest,
  VerdictWorkerError,
  VerdictWorkers,
} from "../../services/verdict_workers.ts";
import { startWebhookSink } from "../fakes/webhook_sink.ts";
import { README_WORKFLOW_YAML, tlpRedEvent } from "../adversarial/harness.ts";
import { waitFor } from "../fixtures/wait_for.ts";
import { realEvent } from "../server/test_app.ts";

/**
 * The README's gate: tlp:red events stop; the others reach its webhook (at `hookUrl` here), which
 * only the server's thread can call.
 */
function gate(hookUrl: string): StoredWorkflow {
  const yaml = README_WORKFLOW_YAML.replace(
    "https://hooks.example.org/misp",
    `${hookUrl}/notified`,
  );
  const workflow = parseWorkflowYaml(yaml, { catalog: MODULE_CATALOG });
  return {
    id: "01J0000000000000000000GATE",
    name: workflow.name,
    version: 1,
    workflow,
    source_format: "yaml",
    created_at: "2026-12-03T00:00:00.000Z",
    updated_at: "2026-12-03T00:00:00.000Z",
    updated_by: "test",
  };
}

/** A `/query` request for `data`, located as the route locates it. */
function queryOf(
  data: unknown,
  workflows: StoredWorkflow[],
  extra: JsonObject = {},
): VerdictRequest {
  const body = new TextEncoder().encode(
    JSON.stringify({ module: "flowgate_event_publish", data, ...extra }),
  );
  const located = parseQueryEnvelope(body)!;
  return {
    body,
    ...located.dataSpan,
    nodeContext: located.envelope,
    workflows,
    actor: { kind: "misp", id: "127.0.0.1" },
    remainingMs: 2_000,
    timeoutMs: 2_000,
    inFlight: [],
  };
}

function decided(answer: VerdictWorkerAnswer) {
  assert.equal(answer.kind, "decided", `the Worker answered ${answer.kind}`);
  return answer as Extract<VerdictWorkerAnswer, { kind: "decided" }>;
}

Deno.test("VerdictWorkers decide in a Worker what the server's thread decides", async (t) => {
  await using sink = startWebhookSink();
  const workers = VerdictWorkers.start({ size: 2, secrets: [] })!;
  try {
    await ready(workers);
    const workflows = [gate(sink.url)];
    const red = await tlpRedEvent();

    await t.step(
      "a tlp:red event is blocked, with the run, its trace and the input hash",
      async () => {
        const request = queryOf(red, workflows);
        const sent = request.body.slice();
        const dataBytes = sent.subarray(request.dataStart, request.dataEnd);
        const answer = decided(await workers.decide(request));
        assert.equal(request.body.byteLength, 0, "the body is transferred, not copied");
        assert.deepEqual(answer.body, sent, "the body comes back whole");
        assert.equal(answer.verdict.allow, false);
        assert.match(answer.verdict.errors.join("\n"), /Publication of .+ blocked/);
        assert.equal(answer.runs.length, 1);
        const { run } = answer.runs[0]!;
        assert.equal(run.outcome, "blocked");
        assert.equal(run.workflow_id, workflows[0]!.id);
        assert.ok(run.trace.length >= 2);
        assert.deepEqual(answer.verdict.runIds, [run.id]);
        assert.equal(answer.inputHash, await sha256Hex(dataBytes));
        assert.equal(answer.inputJson, undefined, "the stored input is the bytes MISP sent");

        const here = await walkVerdict(
          { ...ENGINE_LOOKUPS, services: offlineServices(), now: Date.now, metrics: NO_METRICS },
          workflows,
          red,
          { actor: { kind: "misp" } },
        );
        assert.deepEqual(answer.verdict.errors, here.verdict.errors);
        assert.deepEqual(
          withoutTimes(run.trace),
          withoutTimes(here.runs[0]!.saved.run.trace),
        );
      },
    );

    await t.step("a walk that reaches the webhook is handed back, nothing sent", async () => {
      const answer = await workers.decide(queryOf(await realEvent(), workflows));
      assert.equal(answer.kind, "main-thread");
      assert.equal(sink.requests.length, 0);
    });

    await t.step(
      "node context is added to the input, which is then encoded and hashed",
      async () => {
        const answer = decided(
          await workers.decide(queryOf(red, workflows, { filteredItems: [{ id: "1" }] })),
        );
        const input = JSON.parse(new TextDecoder().decode(answer.inputJson));
        assert.deepEqual(input, { ...red, _filteredItems: [{ id: "1" }] });
        assert.equal(answer.inputHash, await sha256Hex(answer.inputJson!));
      },
    );

    await t.step(
      "data that is not an object, or not where it was guessed, is declined",
      async () => {
        assert.equal((await workers.decide(queryOf([1, 2], workflows))).kind, "not-object");
        const request = queryOf(red, workflows);
        assert.equal(
          (await workers.decide({ ...request, dataEnd: request.dataEnd - 1 })).kind,
          "unparsed",
        );
      },
    );

    await t.step("the server's in-flight runs reach the re-entrancy guard", async () => {
      const inFlight: [string, string[]][] = [[dataFingerprint(red), [workflows[0]!.id]]];
      const answer = decided(await workers.decide({ ...queryOf(red, workflows), inFlight }));
      assert.equal(answer.verdict.allow, true, "a re-entrant run is allowed, not blocked again");
      assert.equal(answer.runs[0]!.run.trace[0]?.status, "guarded");
    });
  } finally {
    workers.close();
  }
});

/** Waits until a Worker has loaded its modules (a moment, longer on a loaded machine). */
async function ready(workers: VerdictWorkers): Promise<void> {
  await waitFor(() => workers.available, { what: "a verdict Worker ready", timeoutMs: 30_000 });
}

/** Trace entries without their durations, which differ between any two walks. */
function withoutTimes(trace: TraceEntry[]): Omit<TraceEntry, "duration_ms">[] {
  return trace.map(({ duration_ms: _, ...entry }) => entry);
}

/** The counters a verdict walked here reports to, which this test does not read. */
const NO_METRICS = { recordRun: () => {} };

Deno.test("VerdictWorkers replace a Worker that fails or hangs, and the requests it held fail", async (t) => {
  const standIn = (as: string) =>
    new URL(`../fixtures/verdict_worker_stand_ins.ts?as=${as}`, import.meta.url);
  const request = () => queryOf({ Event: {} }, []);

  await t.step(
    "a Worker that throws: the request fails, another Worker takes its place",
    async () => {
      const workers = VerdictWorkers.start({ size: 1, secrets: [], workerUrl: standIn("crash") })!;
      try {
        for (let i = 0; i < 4; i++) {
          await ready(workers);
          await assert.rejects(workers.decide(request()), /The verdict Worker failed/);
        }
        assert.equal(workers.available, false, "a Worker that fails every time is not restarted");
        await assert.rejects(workers.decide(request()), VerdictWorkerError);
      } finally {
        workers.close();
      }
    },
  );

  await t.step("a Worker past the deadline is ended: the request fails as stuck", async () => {
    const workers = VerdictWorkers.start({
      size: 1,
      secrets: [],
      workerUrl: standIn("hang"),
      stuckAfterMs: 20,
    })!;
    try {
      await ready(workers);
      await assert.rejects(
        workers.decide({ ...request(), remainingMs: 10 }),
        /got stuck past the verdict deadline/,
      );
      assert.equal(workers.underWay, 0);
      await ready(workers);
    } finally {
      workers.close();
    }
  });
});
