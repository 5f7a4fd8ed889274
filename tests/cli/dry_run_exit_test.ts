import assert from "node:assert/strict";
import { startWebhookSink } from "../fakes/webhook_sink.ts";
import { runDeno } from "./run_deno.ts";

const SIGHTING = new URL("../../../shared/data/misp-event-pymisp-sighting_2.json", import.meta.url);
const APPROVAL_EXAMPLE = "examples/require-approval-tlp-amber.yaml";
const BGP_BLUEPRINT = new URL(
  "../../../shared/data/blueprint_set-tag-based-on-bgp-ranking-maliciousness-level_1668498668.json",
  import.meta.url,
).pathname;

async function dryRun(
  args: string[],
  options: { net?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string }> {
  const permissions = ["--allow-read", "--allow-write", "--allow-env"];
  if (options.net) permissions.push(`--allow-net=${options.net}`);
  const run = await runDeno(["run", ...permissions, "cli/dry_run.ts", ...args], options);
  return { code: run.code, stdout: run.stdout + run.stderr };
}

Deno.test("dry-run exits 3 when the workflow parks the event for approval, 0 when it lets it pass", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const event = JSON.parse(await Deno.readTextFile(SIGHTING));
    event.Event.Tag.push({ id: "7", name: "tlp:amber" });
    const amber = `${dir}/amber-event.json`;
    await Deno.writeTextFile(amber, JSON.stringify(event));

    const parked = await dryRun([APPROVAL_EXAMPLE, amber]);
    assert.equal(parked.code, 3, parked.stdout);
    assert.match(parked.stdout, /approval \(require-approval\)/);

    const json = await dryRun([APPROVAL_EXAMPLE, amber, "--json"]);
    assert.equal(json.code, 3, json.stdout);
    assert.equal(JSON.parse(json.stdout).outcome, "pending-approval");

    const passed = await dryRun([APPROVAL_EXAMPLE, SIGHTING.pathname]);
    assert.equal(passed.code, 0, passed.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dry-run of the BGP ranking blueprint asks bgpranking only about the types it takes", async (t) => {
  await using modules = startWebhookSink();
  modules.reply({
    body: JSON.stringify([{ name: "bgpranking", mispattributes: { input: ["AS"] } }]),
  });
  /** The attach-enrichment node of the deferred sub-walk (the blueprint runs it concurrently). */
  const enrichment = (stdout: string) => {
    const [sub] = JSON.parse(stdout).deferred_results;
    return sub.trace.find((entry: { module: string }) => entry.module === "attach-enrichment");
  };
  const types = (node: { actions?: { details: { attribute_type: string } }[] }) =>
    (node.actions ?? []).map((action) => action.details.attribute_type);

  await t.step(
    "with the misp-modules listing: the comment and target-external are skipped",
    async () => {
      const run = await dryRun([BGP_BLUEPRINT, SIGHTING.pathname, "--json"], {
        net: new URL(modules.url).host,
        env: { FLOWGATE_MISP_MODULES_URL: modules.url },
      });
      assert.equal(run.code, 0, run.stdout);
      const node = enrichment(run.stdout);
      assert.deepEqual(types(node), []);
      assert.deepEqual(node.observed.skipped_types.map((item: { type: string }) => item.type), [
        "comment",
        "target-external",
      ]);
      assert.deepEqual(modules.requests.map((request) => request.path), ["/modules"]);
    },
  );

  await t.step("without it every attribute would be queried, as before", async () => {
    const run = await dryRun([BGP_BLUEPRINT, SIGHTING.pathname, "--json"]);
    assert.equal(run.code, 0, run.stdout);
    assert.deepEqual(types(enrichment(run.stdout)), ["comment", "target-external"]);
  });
});
