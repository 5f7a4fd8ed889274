import assert from "node:assert/strict";
import { type CliRun, ROOT, runDeno } from "./run_deno.ts";

const CONFIG = new URL("deno.json", ROOT).pathname;

function cli(
  script: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliRun> {
  return runDeno([
    "run",
    "--config",
    CONFIG,
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-net",
    new URL(`cli/${script}`, ROOT).pathname,
    ...args,
  ], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { NO_COLOR: "1", FLOWGATE_KV: "", ...options.env },
  });
}

/** Every command-line entry point: the files of cli/ that run `main` when started. */
async function entryPoints(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(new URL("cli/", ROOT))) {
    if (!entry.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(new URL(`cli/${entry.name}`, ROOT));
    if (text.includes("if (import.meta.main)")) names.push(entry.name);
  }
  return names.sort();
}

Deno.test("every CLI command answers --help and -h with its usage, exit 0", async (t) => {
  const scripts = await entryPoints();
  assert.ok(scripts.includes("misp_connect.ts") && scripts.includes("dry_run.ts"), `${scripts}`);
  assert.ok(scripts.length >= 9, `${scripts}`);
  for (const script of scripts) {
    await t.step(script, async () => {
      const run = await cli(script, ["--help"]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^Usage: /);
      assert.match(run.stdout, /--help, -h/);
      assert.equal(run.stderr, "");
      const short = await cli(script, ["some-argument", "-h"]);
      assert.equal(short.code, 0, short.stderr);
      assert.equal(short.stdout, run.stdout);
    });
  }
});

Deno.test("KV-using commands name FLOWGATE_KV in their help", async () => {
  for (const script of ["backup.ts", "restore.ts", "dry_run.ts", "misp_connect.ts"]) {
    const run = await cli(script, ["--help"]);
    assert.match(
      run.stdout,
      /FLOWGATE_KV +the KV file or URL to use \(default \.\/data\/flowgate\.kv\)/,
    );
  }
});

Deno.test("an unknown option points at --help", async () => {
  const run = await cli("validate.ts", ["--nope"]);
  assert.equal(run.code, 2);
  assert.equal(run.stderr, 'Error: Unknown option "--nope" (see --help)\n');
});

Deno.test("dry-run <run id> names the KV it looked in", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "flowgate-cli-kv-" });
  const runId = "01JZZZZZZZZZZZZZZZZZZZZZZZ";
  try {
    await t.step("FLOWGATE_KV set, run not there", async () => {
      const path = `${dir}/flowgate.kv`;
      (await Deno.openKv(path)).close();
      const run = await cli("dry_run.ts", [runId], { env: { FLOWGATE_KV: path } });
      assert.equal(run.code, 2);
      assert.equal(
        run.stderr,
        `Error: No stored run "${runId}" in the KV "${path}" (FLOWGATE_KV)\n`,
      );
    });
    await t.step("FLOWGATE_KV names a file that does not exist: nothing created", async () => {
      const path = `${dir}/missing.kv`;
      const run = await cli("dry_run.ts", [runId], { env: { FLOWGATE_KV: path } });
      assert.equal(run.code, 2);
      assert.equal(
        run.stderr,
        `Error: No KV "${path}" (FLOWGATE_KV): start Flowgate once, or point FLOWGATE_KV at its KV\n`,
      );
      await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
    });
    await t.step("FLOWGATE_KV unset: the default, and how to change it", async () => {
      const run = await cli("dry_run.ts", [runId], { cwd: dir });
      assert.equal(run.code, 2);
      assert.equal(
        run.stderr,
        `Error: No KV "./data/flowgate.kv" (the default; set FLOWGATE_KV for another): start Flowgate once, or point FLOWGATE_KV at its KV\n`,
      );
    });
    await t.step("backup names the KV too", async () => {
      const path = `${dir}/missing.kv`;
      const run = await cli("backup.ts", [], { env: { FLOWGATE_KV: path } });
      assert.equal(run.code, 2);
      assert.equal(
        run.stderr,
        `Error: Cannot back up the KV "${path}" (FLOWGATE_KV): no KV store there\n`,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
