/**
 * Issue 11 point 2: Flowgate's own MISP exports load back, and MISP JSON that MISP saved with a
 * value outside a param's options imports with a warning and runs as MISP's PHP does.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { exportMispWorkflow, importMispWorkflow } from "../../engine/misp_codec.ts";
import type { ModuleDescriptor, ParamDescriptor, Workflow } from "../../engine/model.ts";
import { runWorkflow } from "../../engine/run_workflow.ts";
import { validateWorkflow } from "../../engine/validate.ts";
import { optionValues } from "../../engine/validate.ts";
import { parseWorkflowYaml, stringifyWorkflowYaml } from "../../engine/yaml_codec.ts";
import { ENGINE_LOOKUPS, listModules, MODULE_CATALOG } from "../../modules/registry.ts";
import { TRIGGERS } from "../../triggers/catalogue.ts";
import { canonicalWorkflow } from "../fixtures/workflow_arbitrary.ts";
import { eventWith, testServices } from "./fake_modules.ts";

/** A value for a required param that has no default (webhook `url`, Slack `channel_id`…). */
function requiredValue(param: ParamDescriptor): unknown {
  if (param.options) {
    const first = optionValues(param.options)[0] ?? "x";
    return param.multiple ? [first] : first;
  }
  return param.type === "input" && /url/i.test(param.id) ? "https://hooks.example.org/x" : "x";
}

/** One node of `module` with no params but the required ones MISP would not fill. */
function defaultsOnlyYaml(module: ModuleDescriptor, trigger: string): string {
  const params = Object.fromEntries(
    module.params
      .filter((param) => param.required && param.default === undefined)
      .map((param) => [param.id, requiredValue(param)]),
  );
  return JSON.stringify({
    name: "defaults-only",
    trigger,
    enabled: true,
    start: "only",
    nodes: { only: { module: module.id, ...(Object.keys(params).length ? { params } : {}) } },
  });
}

/** YAML → MISP JSON (as `convert --to misp` writes it) → YAML, as text each time. */
function roundTrip(workflow: Workflow): Workflow {
  const exported = JSON.stringify(exportMispWorkflow(workflow, MODULE_CATALOG));
  const imported = importMispWorkflow(JSON.parse(exported), MODULE_CATALOG);
  return parseWorkflowYaml(stringifyWorkflowYaml(imported, MODULE_CATALOG), {
    catalog: MODULE_CATALOG,
  });
}

const PARAM_CODES = new Set(["invalid-param", "unknown-option", "missing-param", "unknown-param"]);

Deno.test("every module's defaults survive YAML → MISP JSON → YAML and validate (property)", () => {
  const modules = listModules().map((module) => module.descriptor);
  assert.ok(modules.length > 40, "the registry lists every module");
  fc.assert(
    fc.property(
      fc.constantFrom(...modules),
      fc.constantFrom(...TRIGGERS.map((trigger) => trigger.descriptor.id)),
      (module, trigger) => {
        const original = parseWorkflowYaml(defaultsOnlyYaml(module, trigger), {
          catalog: MODULE_CATALOG,
        });
        assert.deepEqual(validateWorkflow(original, MODULE_CATALOG).errors, []);
        const reloaded = roundTrip(original);
        const { errors, warnings } = validateWorkflow(reloaded, MODULE_CATALOG);
        assert.deepEqual(errors, [], `${module.id} on ${trigger}`);
        // MISP's own defaults (threatlevel "Low", proposal_type "all"…) are written into the
        // export but are no param problem: MISP writes them itself.
        assert.deepEqual(warnings.filter((problem) => PARAM_CODES.has(problem.code)), []);
        assert.deepEqual(
          canonicalWorkflow(reloaded, MODULE_CATALOG, () => "only"),
          canonicalWorkflow(original, MODULE_CATALOG),
        );
        assert.equal(reloaded.enabled, original.enabled);
        assert.equal(reloaded.on_timeout, original.on_timeout);
      },
    ),
    { numRuns: 300 },
  );
  // And every module once, whatever the sample drew.
  for (const module of modules) {
    const original = parseWorkflowYaml(defaultsOnlyYaml(module, "event-publish"), {
      catalog: MODULE_CATALOG,
    });
    const { errors, warnings } = validateWorkflow(roundTrip(original), MODULE_CATALOG);
    assert.deepEqual(errors, [], module.id);
    assert.deepEqual(warnings.filter((problem) => PARAM_CODES.has(problem.code)), [], module.id);
  }
});

Deno.test("the three MISP defaults outside their options export and reload without error", () => {
  const cases: [string, string, unknown][] = [
    ["threat-level-if", "threatlevel", "Low"],
    ["proposal-action", "proposal_type", "all"],
    ["tag_replacement_tlp", "remove_substituted", "1"],
  ];
  for (const [module, param, value] of cases) {
    const descriptor = MODULE_CATALOG.describe(module);
    assert.ok(descriptor, module);
    const workflow = parseWorkflowYaml(defaultsOnlyYaml(descriptor, "event-publish"), {
      catalog: MODULE_CATALOG,
    });
    const exported = exportMispWorkflow(workflow, MODULE_CATALOG);
    const node = Object.values(exported.Workflow.data).find((entry) =>
      "data" in entry && entry.data.id === module
    );
    assert.ok(node && "data" in node, module);
    const params = node.data.indexed_params as Record<string, unknown>;
    assert.equal(params[param], value, `${module} exports MISP's default`);
    assert.deepEqual(validateWorkflow(roundTrip(workflow), MODULE_CATALOG).errors, [], module);
  }
});

/** An `organisation-if` workflow as MISP 2.4 (organisation-if 0.1) saved it. */
function oldOrganisationIf(condition: string): unknown {
  const node = (
    id: number,
    module: string,
    kind: string,
    params: unknown,
    outputs: number[][],
  ) => ({
    id,
    name: module,
    class: "block-type-default",
    typenode: false,
    pos_x: id * 200,
    pos_y: 0,
    inputs: kind === "trigger" ? [] : { input_1: { connections: [] } },
    outputs: Object.fromEntries(
      outputs.map((targets, index) => [
        `output_${index + 1}`,
        { connections: targets.map((target) => ({ node: String(target), output: "input_1" })) },
      ]),
    ),
    data: { id: module, module_type: kind, indexed_params: params, saved_filters: [] },
  });
  return {
    Workflow: {
      name: "Org gate",
      trigger_id: "event-publish",
      enabled: true,
      data: JSON.stringify({
        1: node(1, "event-publish", "trigger", [], [[2]]),
        2: node(2, "organisation-if", "logic", { org_type: "orgc", condition, org_id: "2" }, [
          [3],
          [],
        ]),
        3: node(3, "stop-execution", "action", { message: "org 2 may not publish" }, []),
      }),
    },
  };
}

Deno.test("old MISP JSON with organisation-if condition equals imports with a warning and runs as PHP", async (t) => {
  const event = (orgc: string) => {
    const data = eventWith();
    Object.assign(data.Event as Record<string, unknown>, { orgc_id: orgc, org_id: "9" });
    return data;
  };
  const run = async (workflow: Workflow, orgc: string) =>
    await runWorkflow(workflow, event(orgc), {
      ...ENGINE_LOOKUPS,
      services: testServices(),
      dryRun: true,
    });

  await t.step(
    "equals: a warning, then Module_organisation_if's convertOperators → in",
    async () => {
      const workflow = importMispWorkflow(oldOrganisationIf("equals"), MODULE_CATALOG);
      const { errors, warnings } = validateWorkflow(workflow, MODULE_CATALOG);
      assert.deepEqual(errors, []);
      const optionWarnings = warnings.filter((problem) => problem.code === "unknown-option");
      assert.deepEqual(optionWarnings.map((problem) => [problem.node, problem.field]), [
        ["2", "params.condition"],
      ]);
      assert.match(optionWarnings[0]!.message, /"equals" is not one of "in", "not_in"; MISP saves/);
      // org_id "2" is one string: MISP wraps it into a list (Module_organisation_if.php line 70).
      const single = warnings.find((problem) => problem.field === "params.org_id");
      assert.match(single?.message ?? "", /MISP wraps a single value into a list/);
      assert.equal((await run(workflow, "2")).outcome, "blocked");
      assert.equal((await run(workflow, "3")).outcome, "success");
    },
  );
  await t.step("not_equals → not_in", async () => {
    const workflow = importMispWorkflow(oldOrganisationIf("not_equals"), MODULE_CATALOG);
    assert.deepEqual(validateWorkflow(workflow, MODULE_CATALOG).errors, []);
    assert.equal((await run(workflow, "2")).outcome, "success");
    assert.equal((await run(workflow, "3")).outcome, "blocked");
  });
  await t.step(
    "a value no MISP version knows: evaluateCondition is false, the else branch",
    async () => {
      const workflow = importMispWorkflow(oldOrganisationIf("contains"), MODULE_CATALOG);
      assert.deepEqual(validateWorkflow(workflow, MODULE_CATALOG).errors, []);
      assert.equal((await run(workflow, "2")).outcome, "success");
      assert.equal((await run(workflow, "3")).outcome, "success");
    },
  );
});

Deno.test("values MISP could not run, or Flowgate's strict choices, are still refused", () => {
  const workflow = parseWorkflowYaml(
    [
      "name: refused",
      "trigger: event-publish",
      "start: hook",
      "nodes:",
      "  hook:",
      "    module: webhook",
      "    params: { url: [https://a.example], request_method: patch }",
    ].join("\n"),
    { catalog: MODULE_CATALOG },
  );
  const { errors } = validateWorkflow(workflow, MODULE_CATALOG);
  assert.deepEqual(errors.map((problem) => [problem.code, problem.field]), [
    ["invalid-param", "params.url"],
    ["invalid-param", "params.request_method"],
  ]);
});
