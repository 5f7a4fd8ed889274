import assert from "node:assert/strict";
import { parsePinnedRun } from "../../cli/replay_pinned.ts";
import { UsageError } from "../../cli/cli_support.ts";

const ROOT = new URL("../../", import.meta.url);

async function replayPinned(...args: string[]): Promise<{ code: number; stdout: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "replay-pinned", ...args],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr),
  };
}

Deno.test("deno task replay-pinned passes on the pinned example with the example workflows", async () => {
  const run = await replayPinned();
  assert.equal(run.code, 0, run.stdout);
  assert.match(run.stdout, /^ok {6}examples\/pinned\/tlp-red-event-blocked\.json: blocked /m);
  assert.match(run.stdout, /1 pinned run\(s\), 0 flipped/);
});

Deno.test("deno task replay-pinned fails and shows the diff when a workflow change flips a verdict", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const source = await Deno.readTextFile(
      new URL("examples/block-tlp-red-publication.yaml", ROOT),
    );
    await Deno.writeTextFile(
      `${dir}/block-tlp-red-publication.yaml`,
      source.replace("tags: [tlp:red]", "tags: [tlp:amber]"),
    );
    const run = await replayPinned("examples/pinned", "--workflows", dir);
    assert.equal(run.code, 1, run.stdout);
    assert.match(
      run.stdout,
      /^FLIPPED examples\/pinned\/tlp-red-event-blocked\.json: expected blocked at "stop", now success /m,
    );
    assert.match(run.stdout, /^ {2}tag-if "tlp-red": decision then → else$/m);
    assert.match(run.stdout, /^ {2}stop-execution "stop": no longer runs$/m);
    assert.match(run.stdout, /1 pinned run\(s\), 1 flipped/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parsePinnedRun() names the file and the field that is wrong", async (t) => {
  const cases: [string, RegExp][] = [
    ["[]", /"x\.json": field "workflow" must be a workflow name/],
    ['{"workflow":"w","input":[]}', /"x\.json": field "input" must be a JSON object/],
    [
      '{"workflow":"w","input":{},"expected":{"outcome":"maybe"}}',
      /field "expected\.outcome" must be one of success, blocked, failure, pending-approval/,
    ],
    ["{", /Cannot read pinned run "x\.json": /],
  ];
  for (const [text, pattern] of cases) {
    await t.step(text, () => {
      assert.throws(
        () => parsePinnedRun(text, "x.json"),
        (error: unknown) => error instanceof UsageError && pattern.test(error.message),
      );
    });
  }
});
