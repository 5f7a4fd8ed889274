import assert from "node:assert/strict";
import { getWorkflow, listWorkflows } from "../../store/workflows.ts";
import { syncWorkflowsDir, watchWorkflowsDir } from "../../services/workflows_dir.ts";
import { startTestApp } from "../server/test_app.ts";
import { waitFor } from "../fixtures/wait_for.ts";

const EXAMPLE = new URL("../../examples/block-enrichment-tlp-red-pap-red.yaml", import.meta.url);

Deno.test("syncWorkflowsDir() loads, updates and removes dir-managed workflows", async (t) => {
  await using test = await startTestApp();
  const dir = await Deno.makeTempDir();
  try {
    const yaml = await Deno.readTextFile(EXAMPLE);
    await Deno.writeTextFile(`${dir}/red.yaml`, yaml);
    await Deno.writeTextFile(`${dir}/broken.yml`, "name: [");
    await Deno.writeTextFile(`${dir}/notes.txt`, "ignored");

    await t.step("first sync creates, and reports the broken file", async () => {
      const report = await syncWorkflowsDir(test.kv, dir);
      assert.deepEqual(report.created, ["block-enrichment-tlp-red-pap-red"]);
      assert.equal(report.errors.length, 1);
      assert.match(report.errors[0]!, /^broken\.yml: /);
      const stored = await getWorkflow(test.kv, "block-enrichment-tlp-red-pap-red");
      assert.equal(stored?.managed_by, "dir");
    });
    await t.step("unchanged files change nothing; edited ones get a new version", async () => {
      assert.deepEqual((await syncWorkflowsDir(test.kv, dir)).unchanged, [
        "block-enrichment-tlp-red-pap-red",
      ]);
      await Deno.writeTextFile(`${dir}/red.yaml`, yaml.replace("in_or", "in_and"));
      assert.deepEqual((await syncWorkflowsDir(test.kv, dir)).updated, [
        "block-enrichment-tlp-red-pap-red",
      ]);
      assert.equal((await getWorkflow(test.kv, "block-enrichment-tlp-red-pap-red"))?.version, 2);
    });
    await t.step("the API refuses to edit a dir-managed workflow", async () => {
      const response = await test.admin("/api/workflows/block-enrichment-tlp-red-pap-red", {
        method: "DELETE",
      });
      assert.equal(response.status, 409);
      assert.match((await response.json()).error, /FLOWGATE_WORKFLOWS_DIR/);
    });
    await t.step("a removed file deletes its workflow", async () => {
      await Deno.remove(`${dir}/red.yaml`);
      assert.deepEqual((await syncWorkflowsDir(test.kv, dir)).deleted, [
        "block-enrichment-tlp-red-pap-red",
      ]);
      assert.equal((await listWorkflows(test.kv, {})).length, 0);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchWorkflowsDir() re-syncs when a file appears", async () => {
  await using test = await startTestApp();
  const dir = await Deno.makeTempDir();
  const stop = new AbortController();
  const watching = watchWorkflowsDir(test.kv, dir, { signal: stop.signal });
  try {
    await Deno.writeTextFile(`${dir}/red.yaml`, await Deno.readTextFile(EXAMPLE));
    await waitFor(async () => (await listWorkflows(test.kv, {})).length === 1);
  } finally {
    stop.abort();
    await watching;
    await Deno.remove(dir, { recursive: true });
  }
});
