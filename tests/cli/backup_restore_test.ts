import assert from "node:assert/strict";
import { createWorkflow, getWorkflow } from "../../store/workflows.ts";
import { getRun, saveRun } from "../../store/runs.ts";
import { loadEvent, makeRun, makeWorkflow } from "../store/fixtures.ts";

const ROOT = new URL("../../", import.meta.url);

async function runCli(script: string, args: string[], kvPath: string) {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", script, ...args],
    cwd: ROOT,
    env: { FLOWGATE_KV: kvPath, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  });
  const output = await command.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("cli/backup.ts and cli/restore.ts move a store between KV files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sourcePath = `${dir}/source.kv`;
    const targetPath = `${dir}/restored/target.kv`;
    const file = `${dir}/backup.jsonl`;
    const run = makeRun();
    {
      using kv = await Deno.openKv(sourcePath);
      await createWorkflow(kv, makeWorkflow(), { actor: "cli", sourceFormat: "yaml" });
      await saveRun(kv, run, { input: await loadEvent() });
    }
    const backup = await runCli("cli/backup.ts", [file], sourcePath);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(
      backup.stderr,
      /^Backed up 1 workflows, 1 workflow_versions, 1 runs, 0 approvals, 0 audit/,
    );
    for (let i = 0; i < 2; i++) {
      const restore = await runCli("cli/restore.ts", [file], targetPath);
      assert.equal(restore.code, 0, restore.stderr);
      assert.match(restore.stdout, /^Restored 1 workflows, 1 workflow_versions, 1 runs/);
    }
    using restored = await Deno.openKv(targetPath);
    assert.equal((await getWorkflow(restored, "block-red"))?.name, "block-red");
    assert.equal((await getRun(restored, run.id))?.trace.length, 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli/restore.ts refuses a file that is not a backup with one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const event = new URL(
      "../../../shared/data/misp-event-pymisp-sighting_2.json",
      import.meta.url,
    );
    const result = await runCli("cli/restore.ts", [event.pathname], `${dir}/flowgate.kv`);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      'Error: Cannot restore: the file is not a Flowgate backup (the first line must be a "flowgate-backup" header)\n',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
