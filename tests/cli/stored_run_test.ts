import assert from "node:assert/strict";
import { dryRunStored, isRunId } from "../../cli/stored_run.ts";
import { UsageError } from "../../cli/cli_support.ts";
import { parseWorkflowYaml } from "../../engine/yaml_codec.ts";
import { ENGINE_LOOKUPS, MODULE_CATALOG } from "../../modules/registry.ts";
import { runWorkflow } from "../../engine/run_workflow.ts";
import { buildRunRecord, newRunId } from "../../services/run_record.ts";
import { createWorkflow, replaceWorkflow } from "../../store/workflows.ts";
import { listRuns, saveRuns } from "../../store/runs.ts";
import { testServices } from "../engine/fake_modules.ts";
import { realEvent } from "../server/test_app.ts";
import {
  amberEvent,
  approvalWorkflowYaml,
  startApprovalSetup,
} from "../fixtures/approval_setup.ts";
import { runDeno } from "./run_deno.ts";

Deno.test("dryRunStored() replays a stored run dry against its version or another workflow", async (t) => {
  await using setup = await startApprovalSetup();
  await setup.publish();
  const [stored] = (await listRuns(setup.test.kv)).items;
  assert.equal(stored?.outcome, "pending-approval");
  const calls = setup.misp.requests.length;

  await t.step("against the version it ran with: same verdict, nothing opened", async () => {
    const { result, diff } = await dryRunStored(setup.test.kv, stored.id);
    assert.equal(result.outcome, "pending-approval");
    assert.equal(diff.changed, false);
    assert.equal(setup.misp.requests.length, calls);
  });

  await t.step("against a changed workflow: the diff shows the flipped decision", async () => {
    const changed = parseWorkflowYaml(
      (await approvalWorkflowYaml()).replace("tags: [tlp:amber]", "tags: [tlp:red]"),
      { catalog: MODULE_CATALOG },
    );
    const { result, diff } = await dryRunStored(setup.test.kv, stored.id, changed);
    assert.equal(result.outcome, "success");
    assert.deepEqual(diff.nodes.map((node) => [node.node_id, node.change]), [
      ["is-amber", "decision"],
      ["approval", "no-longer-runs"],
    ]);
  });

  await t.step("after the workflow changed, the stored version is still used", async () => {
    const changed = parseWorkflowYaml(
      (await approvalWorkflowYaml()).replace("tags: [tlp:amber]", "tags: [tlp:red]"),
      { catalog: MODULE_CATALOG },
    );
    await replaceWorkflow(setup.test.kv, stored.workflow_id, changed, {
      actor: "test",
      sourceFormat: "yaml",
    });
    const { result } = await dryRunStored(setup.test.kv, stored.id);
    assert.equal(result.outcome, "pending-approval");
  });

  await t.step("an unknown run id is a usage error", async () => {
    await assert.rejects(
      dryRunStored(setup.test.kv, "01JZZZZZZZZZZZZZZZZZZZZZZZ"),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message === 'No stored run "01JZZZZZZZZZZZZZZZZZZZZZZZ"',
    );
  });
});

Deno.test("isRunId() tells run ids from file names", async () => {
  assert.equal(isRunId("01M8GM86DV940AVKAENTGS0YE1"), true);
  assert.equal(isRunId("event.json"), false);
  assert.equal(isRunId(JSON.stringify(await amberEvent()).slice(0, 26)), false);
});

Deno.test("deno task dry-run accepts a stored run id and prints the diff", async (t) => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/flowgate.kv`;
  try {
    const source = await Deno.readTextFile(
      new URL("../../examples/block-tlp-red-publication.yaml", import.meta.url),
    );
    const workflow = parseWorkflowYaml(source, { catalog: MODULE_CATALOG });
    const input = await realEvent();
    (input.Event as { Tag: unknown[] }).Tag.push({ id: "9", name: "tlp:red" });
    let runId = "";
    {
      using kv = await Deno.openKv(kvPath);
      const stored = await createWorkflow(kv, workflow, { actor: "test", sourceFormat: "yaml" });
      const result = await runWorkflow(workflow, input, {
        ...ENGINE_LOOKUPS,
        services: testServices(),
        dryRun: true,
      });
      runId = newRunId();
      const run = buildRunRecord(stored, result, {
        runId,
        actor: { kind: "misp" },
        startedAt: Date.now(),
        finishedAt: Date.now(),
        input,
        inputHash: "",
        dryRun: false,
      });
      await saveRuns(kv, [{ run, input }]);
    }
    const dryRun = async (...args: string[]) => {
      const run = await runDeno(["task", "--quiet", "dry-run", ...args], {
        env: { FLOWGATE_KV: kvPath },
      });
      return { code: run.code, text: run.stdout + run.stderr };
    };

    await t.step("against the version it ran with", async () => {
      const run = await dryRun(runId);
      assert.equal(run.code, 1, run.text);
      assert.match(run.text, /^Verdict: BLOCKED by node "stop"/m);
      assert.match(run.text, /^No difference from the stored run$/m);
    });

    await t.step("against a workflow file", async () => {
      const changed = `${dir}/changed.yaml`;
      await Deno.writeTextFile(changed, source.replace("tags: [tlp:red]", "tags: [tlp:amber]"));
      const run = await dryRun(changed, runId);
      assert.equal(run.code, 0, run.text);
      assert.match(run.text, /^Differences from the stored run \(blocked → success\):$/m);
      assert.match(run.text, /^ {2}tag-if "tlp-red": decision then → else$/m);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
