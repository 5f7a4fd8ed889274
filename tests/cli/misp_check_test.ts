import assert from "node:assert/strict";
import { checkMispWiring, type MispCheckReport } from "../../services/misp_check.ts";
import { connectMisp, disconnectMisp } from "../../services/misp_connect.ts";
import { type MispSetup, startMispSetup, WIRED_TRIGGERS } from "./misp_setup.ts";

function problems(report: MispCheckReport): string[] {
  return report.findings.filter((finding) => !finding.ok).map((finding) => finding.what);
}

async function wire(setup: MispSetup): Promise<void> {
  await connectMisp(setup.admin, { address: setup.address, triggers: WIRED_TRIGGERS }, {
    dryRun: false,
    kv: setup.kv,
    actor: "test",
  });
}

function check(setup: MispSetup, withAddress = true): Promise<MispCheckReport> {
  return checkMispWiring(setup.admin, {
    triggers: WIRED_TRIGGERS,
    ...(withAddress ? { address: setup.address } : {}),
  });
}

Deno.test("checkMispWiring() finds nothing wrong on a wired MISP", async () => {
  await using setup = await startMispSetup();
  await wire(setup);
  const report = await check(setup);
  assert.equal(report.version, "2.5.1");
  assert.deepEqual(problems(report), []);
  assert.ok(
    report.findings.some((finding) =>
      finding.what === 'Node "flowgate_event_publish" runs right after trigger "event-publish"'
    ),
  );
});

Deno.test("checkMispWiring() reports each problem with what to do", async (t) => {
  await t.step("workflows off: says so and reads no workflow route", async () => {
    await using setup = await startMispSetup();
    const report = await check(setup);
    assert.deepEqual(problems(report), [
      "Plugin.Workflow_enable is off",
      "Plugin.Action_services_enable is off",
      `Plugin.Action_services_port is "6666" but Flowgate is at "${setup.address.port}"`,
    ]);
    assert.ok(report.findings.every((finding) => finding.ok || /misp:connect/.test(finding.fix!)));
    assert.ok(!setup.misp.requests.some((request) => request.path.startsWith("/workflows/")));
  });

  await t.step(
    "Action services disabled: module not connected, triggers off, nodes missing",
    async () => {
      await using setup = await startMispSetup({ settings: { "Plugin.Workflow_enable": true } });
      const found = problems(await check(setup, false));
      assert.deepEqual(found, [
        "Plugin.Action_services_enable is off",
        `MISP does not list Flowgate's module "flowgate_event_publish": it cannot reach Flowgate at http://127.0.0.1:6666/modules`,
        'Trigger "event-publish" is disabled in MISP',
        'The workflow of trigger "event-publish" has no "flowgate_event_publish" node',
        `MISP does not list Flowgate's module "flowgate_enrichment_before_query": it cannot reach Flowgate at http://127.0.0.1:6666/modules`,
        'Trigger "enrichment-before-query" is disabled in MISP',
        'The workflow of trigger "enrichment-before-query" has no "flowgate_enrichment_before_query" node',
      ]);
    },
  );

  await t.step("wrong port: names both values", async () => {
    await using setup = await startMispSetup();
    await wire(setup);
    setup.misp.state.settings.set("Plugin.Action_services_port", "6666");
    const found = problems(await check(setup));
    assert.equal(
      found[0],
      `Plugin.Action_services_port is "6666" but Flowgate is at "${setup.address.port}"`,
    );
    assert.match(found[1] ?? "", /does not list Flowgate's module/);
  });

  await t.step("trigger disabled and module disabled", async () => {
    await using setup = await startMispSetup();
    await wire(setup);
    setup.misp.state.settings.set("Plugin.Workflow_triggers_event-publish", false);
    setup.misp.state.enabledModules.delete("flowgate_enrichment_before_query");
    const report = await check(setup);
    assert.deepEqual(problems(report), [
      'Trigger "event-publish" is disabled in MISP',
      'Module "flowgate_enrichment_before_query" is disabled in MISP',
    ]);
    const fix = report.findings.find((finding) => !finding.ok)?.fix ?? "";
    assert.match(fix, /deno task misp:connect --flowgate-url/);
    assert.match(fix, /Workflows → Triggers/);
  });

  await t.step("node missing after --undo", async () => {
    await using setup = await startMispSetup();
    await wire(setup);
    await disconnectMisp(setup.admin, { dryRun: false, kv: setup.kv, actor: "test" });
    assert.deepEqual(problems(await check(setup)), [
      'The workflow of trigger "event-publish" has no "flowgate_event_publish" node',
      'The workflow of trigger "enrichment-before-query" has no "flowgate_enrichment_before_query" node',
    ]);
  });

  await t.step("no enabled workflow in the KV", async () => {
    await using setup = await startMispSetup();
    await wire(setup);
    const report = await checkMispWiring(setup.admin, { triggers: [] });
    assert.deepEqual(problems(report), ["No trigger has an enabled Flowgate workflow in this KV"]);
  });
});
