/**
 * Issue 11 point 3: MISP's blueprints are fragments its editor drops onto a trigger's canvas
 * (workflows-editor.js `addNodesFromBlueprint` skips trigger nodes and connects nothing to the
 * canvas' trigger); 9 of the 13 official ones (all `curation-*`) name no trigger. They import as
 * disabled trigger-less drafts that never run until a trigger is chosen.
 *
 * The fixtures in tests/fixtures/workflows/misp-blueprints/ are MISP/misp-workflow-blueprints at
 * commit 2337bdeb8c0aa7125db3a410fdb6a54ec50d6865 (2023-07-31), unchanged ("&" renamed "and").
 */

import assert from "node:assert/strict";
import { attachTrigger, AttachTriggerError, entryNodes } from "../../engine/attach_trigger.ts";
import { exportBlueprint, importBlueprint } from "../../engine/blueprint.ts";
import { exportMispWorkflow } from "../../engine/misp_codec.ts";
import type { Workflow } from "../../engine/model.ts";
import { runWorkflow } from "../../engine/run_workflow.ts";
import { validateWorkflow } from "../../engine/validate.ts";
import { walkGraph } from "../../engine/walker.ts";
import { parseWorkflowSource } from "../../engine/workflow_source.ts";
import {
  parseWorkflowYaml,
  stringifyWorkflowYaml,
  WorkflowSyntaxError,
} from "../../engine/yaml_codec.ts";
import { ENGINE_LOOKUPS, MODULE_CATALOG } from "../../modules/registry.ts";
import { canonicalWorkflow } from "../fixtures/workflow_arbitrary.ts";
import { eventWith, testServices } from "./fake_modules.ts";

const OFFICIAL = new URL("../fixtures/workflows/misp-blueprints/", import.meta.url);
const SHARED = new URL("../../../shared/data/", import.meta.url);

function officialBlueprints(): [string, string][] {
  return [...Deno.readDirSync(OFFICIAL)]
    .map((entry) => entry.name)
    .filter((name) => name.endsWith(".json"))
    .toSorted()
    .map((name) => [name, Deno.readTextFileSync(new URL(name, OFFICIAL))]);
}

function load(text: string, trigger?: string): Workflow {
  return parseWorkflowSource(text, {
    filename: "blueprint.json",
    catalog: MODULE_CATALOG,
    ...(trigger ? { trigger } : {}),
  }).workflow;
}

Deno.test("official curation blueprints import as disabled drafts without a trigger", async (t) => {
  const found = officialBlueprints();
  assert.equal(found.length, 3);
  for (const [name, text] of found) {
    await t.step(name, () => {
      const draft = load(text);
      assert.equal(draft.trigger, null);
      assert.equal(draft.enabled, false);
      assert.ok(draft.nodes.length > 0);
      assert.ok(draft.nodes.every((node) => node.kind !== "trigger"));
      const { errors, warnings } = validateWorkflow(draft, MODULE_CATALOG);
      assert.deepEqual(errors, []);
      const noTrigger = warnings.filter((problem) => problem.code === "no-trigger");
      assert.equal(noTrigger.length, 1);
      assert.match(noTrigger[0]!.message, /choose a trigger to enable it/);

      // The draft survives YAML (written as `trigger: null`).
      const yaml = stringifyWorkflowYaml(draft, MODULE_CATALOG);
      assert.match(yaml, /^trigger: null$/m);
      const again = parseWorkflowYaml(yaml, { catalog: MODULE_CATALOG });
      assert.equal(again.trigger, null);
      assert.deepEqual(
        canonicalWorkflow(again, MODULE_CATALOG),
        canonicalWorkflow(draft, MODULE_CATALOG),
      );

      // Choosing a trigger wires it to the entry nodes; then it validates as any workflow.
      const attached = { ...attachTrigger(draft, "event-publish", MODULE_CATALOG), enabled: true };
      assert.deepEqual(attached.nodes[0]?.next, [entryNodes(draft)]);
      assert.ok(entryNodes(draft).length > 0);
      assert.deepEqual(validateWorkflow(attached, MODULE_CATALOG).errors, []);
      // …and is what --trigger / ?trigger= gives at import.
      assert.deepEqual(
        canonicalWorkflow(attached, MODULE_CATALOG),
        canonicalWorkflow(load(text, "event-publish"), MODULE_CATALOG),
      );
    });
  }
});

Deno.test("every imported blueprint starts disabled, even one naming its trigger", () => {
  for (const name of [...Deno.readDirSync(SHARED)].map((entry) => entry.name)) {
    if (!name.startsWith("blueprint_")) continue;
    const workflow = load(Deno.readTextFileSync(new URL(name, SHARED)));
    assert.equal(workflow.enabled, false, name);
  }
  const pap = load(
    Deno.readTextFileSync(
      new URL("blueprint_pap_red-and-tlp_red-blocking_1661328258.json", SHARED),
    ),
  );
  assert.equal(pap.trigger, "enrichment-before-query");
});

Deno.test("a trigger-less draft never runs", async () => {
  const [, text] = officialBlueprints()[0]!;
  const draft = load(text);
  const result = await runWorkflow({ ...draft, enabled: true }, eventWith(), {
    ...ENGINE_LOOKUPS,
    services: testServices(),
    dryRun: true,
  });
  assert.equal(result.outcome, "failure");
  assert.deepEqual(result.errors, [
    `Workflow \`${draft.name}\` has no trigger: choose a trigger to enable it`,
  ]);
  assert.ok(result.trace.every((entry) => entry.status === "failure" && entry.module === ""));
  await assert.rejects(
    () =>
      walkGraph(draft, draft.nodes[0]!.id, {
        forPath: "non-blocking",
        data: eventWith(),
        modules: ENGINE_LOOKUPS.modules,
        services: testServices(),
      }),
    /Cannot walk workflow ".*": it has no trigger; choose a trigger to enable it/,
  );
});

Deno.test("validateWorkflow() refuses an enabled draft and a draft holding a trigger node", () => {
  const draft = load(officialBlueprints()[0]![1]);
  assert.deepEqual(
    validateWorkflow({ ...draft, enabled: true }, MODULE_CATALOG).errors.map((p) => p.message),
    [
      `Workflow "${draft.name}", field "enabled": a workflow without a trigger cannot be enabled; choose a trigger first`,
    ],
  );
  const attached = attachTrigger(draft, "event-publish", MODULE_CATALOG);
  const mixed = { ...attached, trigger: null };
  assert.deepEqual(validateWorkflow(mixed, MODULE_CATALOG).errors.map((p) => p.code), [
    "trigger-mismatch",
  ]);
});

Deno.test("attachTrigger() refuses an unknown trigger and a second trigger", () => {
  const draft = load(officialBlueprints()[0]![1]);
  assert.throws(() => attachTrigger(draft, "event-publsh", MODULE_CATALOG), {
    name: "AttachTriggerError",
    message: 'Unknown trigger "event-publsh": GET /api/triggers lists the trigger ids',
  });
  assert.throws(() => attachTrigger(draft, "tag-if", MODULE_CATALOG), AttachTriggerError);
  const attached = attachTrigger(draft, "event-publish", MODULE_CATALOG);
  assert.equal(attachTrigger(attached, "event-publish", MODULE_CATALOG), attached);
  assert.throws(() => attachTrigger(attached, "enrichment-before-query", MODULE_CATALOG), {
    message:
      `Workflow "${draft.name}" already has trigger "event-publish": edit the workflow to change it`,
  });
  // A trigger-node id that is free: "1", else "trigger".
  assert.equal(attached.nodes[0]?.id, draft.nodes.some((n) => n.id === "1") ? "trigger" : "1");
  // A non-blocking trigger lets a late verdict pass.
  assert.equal(attachTrigger(draft, "event-after-save", MODULE_CATALOG).on_timeout, "allow");
});

Deno.test("drafts in YAML and MISP formats", async (t) => {
  await t.step("YAML without a trigger is a draft; start or trigger_params need a trigger", () => {
    const draft = parseWorkflowYaml(
      "name: d\nenabled: false\nnodes:\n  a: { module: stop-execution }\n",
      { catalog: MODULE_CATALOG },
    );
    assert.equal(draft.trigger, null);
    assert.throws(
      () =>
        parseWorkflowYaml(
          "name: d\ntrigger: null\nstart: a\nnodes:\n  a: { module: stop-execution }\n",
        ),
      (error: unknown) =>
        error instanceof WorkflowSyntaxError && error.field === "start" &&
        /a workflow without a trigger has no "start"/.test(error.message),
    );
  });
  await t.step("a MISP workflow export needs a trigger; a blueprint export has no prefix", () => {
    const draft = load(officialBlueprints()[0]![1]);
    assert.throws(() => exportMispWorkflow(draft, MODULE_CATALOG), {
      name: "RangeError",
      message: /it has no trigger; choose a trigger first/,
    });
    const exported = JSON.parse(JSON.stringify(exportBlueprint(draft, MODULE_CATALOG)));
    assert.equal(exported.WorkflowBlueprint.description, draft.description);
    const again = importBlueprint(exported, { catalog: MODULE_CATALOG });
    assert.equal(again.trigger, null);
    assert.deepEqual(
      canonicalWorkflow(again, MODULE_CATALOG),
      canonicalWorkflow(draft, MODULE_CATALOG),
    );
  });
});
