import assert from "node:assert/strict";
import fc from "fast-check";
import { importBlueprint } from "../../engine/blueprint.ts";
import { assignMispIds, exportMispWorkflow, importMispWorkflow } from "../../engine/misp_codec.ts";
import { validateWorkflow } from "../../engine/validate.ts";
import { parseWorkflowYaml, stringifyWorkflowYaml } from "../../engine/yaml_codec.ts";
import { listModules, MODULE_CATALOG } from "../../modules/registry.ts";
import { TRIGGERS } from "../../triggers/catalogue.ts";
import { canonicalWorkflow, workflowArbitrary } from "../fixtures/workflow_arbitrary.ts";

const DATA = new URL("../../../shared/data/", import.meta.url);

function readBlueprints(): [string, unknown][] {
  return [...Deno.readDirSync(DATA)]
    .filter((entry) => entry.name.startsWith("blueprint_"))
    .map((entry) => entry.name)
    .toSorted()
    .map((name) => [name, JSON.parse(Deno.readTextFileSync(new URL(name, DATA)))]);
}

Deno.test("real blueprints validate against the real module registry", () => {
  const found = Object.fromEntries(
    readBlueprints().map(([name, json]) => {
      const workflow = importBlueprint(json, { trigger: "event-publish", catalog: MODULE_CATALOG });
      const { errors, warnings } = validateWorkflow(workflow, MODULE_CATALOG);
      return [name, [...errors, ...warnings].map((problem) => `${problem.code} ${problem.node}`)];
    }),
  );
  assert.deepEqual(found, {
    "blueprint_curation---toggle-automation-flag-from-network-ioc-based-on-abuseipdb.json": [],
    // Both files predate attach-enrichment 0.3, whose `modules` picker holds a list.
    "blueprint_disable-to_ids-flag-for-existing-hash-in-hashlookup_1667228944.json": [
      "invalid-param 10",
    ],
    "blueprint_pap_red-and-tlp_red-blocking_1661328258.json": [],
    "blueprint_set-tag-based-on-bgp-ranking-maliciousness-level_1668498668.json": [
      "invalid-param 29",
    ],
  });
});

Deno.test("YAML and MISP JSON round trips keep graphs of the registry's modules (property)", () => {
  const descriptors = [
    ...TRIGGERS.map((trigger) => trigger.descriptor),
    ...listModules().map((module) => module.descriptor),
  ];
  fc.assert(
    fc.property(workflowArbitrary(descriptors), (workflow) => {
      const yaml = parseWorkflowYaml(stringifyWorkflowYaml(workflow, MODULE_CATALOG), {
        catalog: MODULE_CATALOG,
      });
      assert.deepEqual(
        canonicalWorkflow(yaml, MODULE_CATALOG),
        canonicalWorkflow(workflow, MODULE_CATALOG),
      );
      const ids = assignMispIds(yaml);
      const exported = JSON.parse(JSON.stringify(exportMispWorkflow(yaml, MODULE_CATALOG)));
      const misp = importMispWorkflow(exported, MODULE_CATALOG);
      assert.deepEqual(
        canonicalWorkflow(misp, MODULE_CATALOG),
        canonicalWorkflow(yaml, MODULE_CATALOG, (id) => String(ids.get(id))),
      );
      assert.deepEqual(exportMispWorkflow(misp, MODULE_CATALOG), exported);
    }),
    { numRuns: 100 },
  );
});
