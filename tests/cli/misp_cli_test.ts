import assert from "node:assert/strict";
import { startMispSetup } from "./misp_setup.ts";
import { type CliRun, ROOT, runDeno } from "./run_deno.ts";

/** Runs `deno task <task>`'s command line (flags from deno.json, so a missing permission fails). */
async function task(name: string, args: string[], env: Record<string, string>): Promise<CliRun> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const words = String(config.tasks[name]).split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
  return await runDeno([...words.slice(1), ...args], {
    env: { NO_COLOR: "1", ...env },
    clearEnv: true,
  });
}

Deno.test("deno task misp:connect / misp:check against the fake MISP", async (t) => {
  await using setup = await startMispSetup();
  const env = {
    MISP_URL: setup.misp.url,
    MISP_API_KEY: setup.misp.apiKey,
    FLOWGATE_KV: setup.kvPath,
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "",
    DENO_DIR: Deno.env.get("DENO_DIR") ?? "",
  };
  const url = setup.flowgateUrl;
  const noSecret = (run: CliRun) => {
    assert.ok(!(run.stdout + run.stderr).includes(setup.misp.apiKey), "API key never printed");
  };

  await t.step("misp:check on a fresh MISP: problems, exit 1", async () => {
    const run = await task("misp:check", ["--flowgate-url", url], env);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^PROBLEM {2}Plugin.Workflow_enable is off$/m);
    assert.match(run.stdout, /^ {9}→ run `deno task misp:connect --flowgate-url/m);
    assert.match(run.stdout, /^3 problem\(s\) found$/m);
    noSecret(run);
  });

  await t.step("misp:connect --dry-run prints the plan and changes nothing", async () => {
    const run = await task("misp:connect", ["--flowgate-url", url, "--dry-run"], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        `MISP: ${setup.misp.url}`,
        `Flowgate's KV: "${setup.kvPath}" (FLOWGATE_KV)`,
        "Triggers with an enabled Flowgate workflow: event-publish, enrichment-before-query",
        "MISP version: 2.5.1",
        "Dry run, nothing changed. 11 change(s) to make:",
        "  setting Plugin.Workflow_enable: false → true",
        "  setting Plugin.Action_services_enable: false → true",
        `  setting Plugin.Action_services_port: "6666" → ${setup.address.port}`,
        "  module flowgate_event_publish: enable",
        "  workflow of trigger event-publish: create (MISP's editor creates it)",
        "  node flowgate_event_publish in the workflow of trigger event-publish: add, right after the trigger",
        "  trigger event-publish: enable",
        "  module flowgate_enrichment_before_query: enable",
        "  workflow of trigger enrichment-before-query: create (MISP's editor creates it)",
        "  node flowgate_enrichment_before_query in the workflow of trigger enrichment-before-query: add, right after the trigger",
        "  trigger enrichment-before-query: enable",
        "Note: Plugin.Workflow_enable is off, so MISP's modules and workflows cannot be read yet: the plan assumes each trigger has an empty workflow",
        "",
      ].join("\n"),
    );
    assert.equal(setup.misp.state.settings.size, 0);
    noSecret(run);
  });

  await t.step("misp:connect wires MISP; a second run has nothing to change", async () => {
    const run = await task("misp:connect", ["--flowgate-url", url], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^11 change\(s\) made \(audited as "cli:misp-connect"\):$/m);
    const again = await task("misp:connect", ["--flowgate-url", url], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Nothing to change: MISP is wired to Flowgate$/m);
    noSecret(run);
  });

  await t.step("misp:check on the wired MISP: exit 0", async () => {
    const run = await task("misp:check", ["--flowgate-url", url], env);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^MISP is wired to Flowgate$/m);
  });

  await t.step("misp:connect --undo takes the nodes out; misp:check then exits 1", async () => {
    const run = await task("misp:connect", ["--undo"], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^2 change\(s\) made/m);
    assert.match(
      run.stdout,
      /node flowgate_event_publish in the workflow of trigger event-publish: remove/,
    );
    const check = await task("misp:check", [], env);
    assert.equal(check.code, 1);
    assert.match(
      check.stdout,
      /^PROBLEM {2}The workflow of trigger "event-publish" has no "flowgate_event_publish" node$/m,
    );
  });

  await t.step("a wrong key: one line naming MISP's refusal, exit 2, key not printed", async () => {
    const run = await task("misp:check", [], { ...env, MISP_API_KEY: "wrong-key-0123456789" });
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /^Error: MISP refused "GET \/servers\/getVersion" \(HTTP 403\): Authentication failed/m,
    );
  });

  await t.step(
    "usage errors: no --flowgate-url, a URL with a path, MISP not configured",
    async () => {
      const missing = await task("misp:connect", [], env);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /needs Flowgate's URL as MISP reaches it: --flowgate-url/);
      const path = await task("misp:connect", ["--flowgate-url", `${url}/modules`], env);
      assert.match(path.stderr, /give scheme, host and port only/);
      const unset = await task("misp:check", [], { ...env, MISP_URL: "", MISP_API_KEY: "" });
      assert.equal(unset.code, 2);
      assert.match(unset.stderr, /MISP_URL and MISP_API_KEY are not set/);
    },
  );
});
