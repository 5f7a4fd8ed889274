import assert from "node:assert/strict";
import { getModule } from "../../modules/registry.ts";
import { type CliRun, ROOT, runDeno } from "./run_deno.ts";

const DATA = new URL("../../../shared/data/", import.meta.url);
const PAP_BLUEPRINT =
  new URL("blueprint_pap_red-and-tlp_red-blocking_1661328258.json", DATA).pathname;
const SIGHTING = new URL("misp-event-pymisp-sighting_2.json", DATA).pathname;

function cli(script: string, ...args: string[]): Promise<CliRun> {
  return runDeno(["run", "--allow-read", "--allow-write", "--allow-env", `cli/${script}`, ...args]);
}

/** Exit 2 and exactly one line on stderr, no stack trace. */
function assertOneLineError(run: CliRun, pattern: RegExp): void {
  assert.equal(run.code, 2, run.stderr + run.stdout);
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0] ?? "", pattern);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flowgate-cli-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function redEvent(dir: string): Promise<string> {
  const event = JSON.parse(await Deno.readTextFile(SIGHTING));
  event.Event.Attribute[1].Tag = [{ id: "9", name: "tlp:red" }];
  event._module = "abuseipdb";
  const path = `${dir}/red.json`;
  await Deno.writeTextFile(path, JSON.stringify(event));
  return path;
}

Deno.test("validate accepts a valid workflow with exit 0", async () => {
  const run = await cli("validate.ts", "examples/block-enrichment-tlp-red-pap-red.yaml");
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /valid yaml workflow "block-enrichment-tlp-red-pap-red".*0 error\(s\)/);
});

Deno.test("validate lists every problem with its node and exits 1", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/bad.yaml`;
    await Deno.writeTextFile(
      path,
      "name: bad\ntrigger: event-publish\nstart: a\nnodes:\n  a:\n    module: no-such-module\n    next: ghost\n",
    );
    const run = await cli("validate.ts", path);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^error \[unknown-module\].*"a"/m);
    assert.match(run.stdout, /ghost/);
    assert.match(run.stdout, /invalid yaml workflow "bad"/);
  });
});

Deno.test("the CLI prints one line and exits 2 on bad input", async (t) => {
  await withTempDir(async (dir) => {
    await t.step("broken YAML", async () => {
      const path = `${dir}/broken.yaml`;
      await Deno.writeTextFile(path, "name: x\ntrigger: [unclosed\n");
      assertOneLineError(await cli("validate.ts", path), /^Error: Cannot load workflow .*line/);
    });
    await t.step("JSON that is not a workflow", async () => {
      const path = `${dir}/other.json`;
      await Deno.writeTextFile(path, '{"hello": "world"}');
      assertOneLineError(await cli("validate.ts", path), /Unrecognised workflow JSON/);
    });
    await t.step("a missing file", async () => {
      assertOneLineError(await cli("validate.ts", `${dir}/none.yaml`), /Cannot read workflow/);
    });
    await t.step("no arguments", async () => {
      assertOneLineError(await cli("validate.ts"), /Usage: validate <file>/);
    });
    await t.step("a payload that is not an event", async () => {
      const path = `${dir}/not-event.json`;
      await Deno.writeTextFile(path, '{"user": "nobody"}');
      const workflow = `${dir}/publish.yaml`;
      await Deno.writeTextFile(
        workflow,
        "name: publish\ntrigger: event-publish\nstart: stop\nnodes:\n  stop:\n    module: stop-execution\n",
      );
      assertOneLineError(
        await cli("dry_run.ts", workflow, path),
        /does not fit trigger "event-publish"/,
      );
    });
    await t.step("a payload that is not JSON", async () => {
      const path = `${dir}/text.json`;
      await Deno.writeTextFile(path, "not json");
      assertOneLineError(
        await cli("dry_run.ts", "examples/block-enrichment-tlp-red-pap-red.yaml", path),
        /invalid JSON/,
      );
    });
    await t.step("an unknown trigger", async () => {
      assertOneLineError(
        await cli("dry_run.ts", PAP_BLUEPRINT, SIGHTING, "--trigger", "no-such-trigger"),
        /Unknown trigger "no-such-trigger"/,
      );
    });
    await t.step("an unknown option", async () => {
      assertOneLineError(
        await cli("convert.ts", "x.yaml", "--too", "yaml"),
        /Unknown option "--too"/,
      );
    });
  });
});

Deno.test("dry-run decides the PAP:RED/tlp:red blueprint: exit 1 blocked, 0 allowed", async () => {
  await withTempDir(async (dir) => {
    const blocked = await cli(
      "dry_run.ts",
      PAP_BLUEPRINT,
      await redEvent(dir),
      "--trigger",
      "enrichment-before-query",
    );
    assert.equal(blocked.code, 1, blocked.stderr);
    const lines = blocked.stdout.split("\n");
    assert.match(
      lines[0] ?? "",
      /^Verdict: BLOCKED by node "54" \(stop-execution\): Node `stop-execution` \(54\)/,
    );
    assert.match(blocked.stdout, /53 \(tag-if\) ok → then/);
    assert.match(blocked.stdout, /looked at: .*tlp:red/);

    const allowed = await cli(
      "dry_run.ts",
      PAP_BLUEPRINT,
      SIGHTING,
      "--trigger",
      "enrichment-before-query",
      "--json",
    );
    assert.equal(allowed.code, 0, allowed.stderr);
    const result = JSON.parse(allowed.stdout);
    assert.equal(result.outcome, "success");
    assert.equal(result.trace[1].branch, "else");
  });
});

Deno.test("dry-run decides the tlp:red publication example both ways", async () => {
  await withTempDir(async (dir) => {
    const event = JSON.parse(await Deno.readTextFile(SIGHTING));
    event.Event.Tag.push({ id: "5", name: "tlp:red" });
    const red = `${dir}/red-event.json`;
    await Deno.writeTextFile(red, JSON.stringify(event));
    const blocked = await cli("dry_run.ts", "examples/block-tlp-red-publication.yaml", red);
    assert.equal(blocked.code, 1, blocked.stderr);
    assert.match(blocked.stdout, /^Verdict: BLOCKED by node "stop" \(stop-execution\)/);
    assert.match(blocked.stdout, /warn-admin \(send-mail\) ok\n\s+would do: Mail/);
    const allowed = await cli("dry_run.ts", "examples/block-tlp-red-publication.yaml", SIGHTING);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /notify \(mattermost\) ok/);
  });
});

Deno.test("convert turns YAML into MISP JSON and back", async () => {
  await withTempDir(async (dir) => {
    const misp = `${dir}/flow.json`;
    const toMisp = await cli(
      "convert.ts",
      "examples/block-enrichment-tlp-red-pap-red.yaml",
      "--to",
      "misp",
      "--out",
      misp,
    );
    assert.equal(toMisp.code, 0, toMisp.stderr);
    assert.ok(JSON.parse(await Deno.readTextFile(misp)));
    const back = await cli("convert.ts", misp, "--to", "yaml");
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /module: tag-if/);
    assert.match(back.stdout, /module: stop-execution/);
    assertOneLineError(await cli("convert.ts", misp, "--to", "xml"), /Unknown target format "xml"/);
  });
});

Deno.test({
  name: "validate accepts every example workflow",
  ignore: !getModule("send-mail") || !getModule("mattermost"),
  fn: async () => {
    for await (const entry of Deno.readDir(new URL("examples/", ROOT))) {
      // Subfolders hold other fixtures (examples/pinned: pinned replay runs), not workflows.
      if (!entry.isFile) continue;
      const run = await cli("validate.ts", `examples/${entry.name}`);
      assert.equal(run.code, 0, `${entry.name}: ${run.stdout}${run.stderr}`);
    }
  },
});

const CURATION = new URL(
  "tests/fixtures/workflows/misp-blueprints/blueprint_curation---remove-automation-flag-from-known-non-malicious-hashes.json",
  ROOT,
).pathname;

Deno.test("a trigger-less curation blueprint validates with a warning and needs --trigger to run", async (t) => {
  await t.step("validate: exit 0, a no-trigger warning", async () => {
    const run = await cli("validate.ts", CURATION);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /warning \[no-trigger\].*choose a trigger to enable it/);
    assert.match(run.stdout, /valid blueprint workflow ".*" \(no trigger yet, 9 nodes\): 0 error/);
  });
  await t.step("convert --to yaml writes a disabled draft; --to misp needs --trigger", async () => {
    const yaml = await cli("convert.ts", CURATION, "--to", "yaml");
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.match(yaml.stdout, /^trigger: null$/m);
    assert.match(yaml.stdout, /^enabled: false$/m);
    assertOneLineError(
      await cli("convert.ts", CURATION, "--to", "misp"),
      /it has no trigger \(a MISP workflow needs one\); choose one with --trigger <id>/,
    );
    const misp = await cli("convert.ts", CURATION, "--to", "misp", "--trigger", "event-publish");
    assert.equal(misp.code, 0, misp.stderr);
    assert.equal(JSON.parse(misp.stdout).Workflow.trigger_id, "event-publish");
  });
  await t.step("dry-run without --trigger says how to give one", async () => {
    assertOneLineError(
      await cli("dry_run.ts", CURATION, SIGHTING),
      /has no trigger yet: choose one with --trigger <id> to dry-run it/,
    );
  });
});

Deno.test("convert --to misp output validates again (MISP's defaults outside their options)", async () => {
  await withTempDir(async (dir) => {
    const yaml = `${dir}/levels.yaml`;
    await Deno.writeTextFile(
      yaml,
      [
        "name: levels",
        "trigger: event-publish",
        "start: level",
        "nodes:",
        "  level: { module: threat-level-if, then: accept }",
        "  accept: { module: proposal-action }",
      ].join("\n"),
    );
    const out = `${dir}/levels.json`;
    const converted = await cli("convert.ts", yaml, "--to", "misp", "--out", out);
    assert.equal(converted.code, 0, converted.stderr);
    const text = await Deno.readTextFile(out);
    assert.match(text, /"threatlevel": "Low"/);
    assert.match(text, /"proposal_type": "all"/);
    const run = await cli("validate.ts", out);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /: 0 error\(s\)/);
  });
});
