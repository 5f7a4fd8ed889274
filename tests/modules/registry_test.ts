import assert from "node:assert/strict";
import {
  DuplicateModuleError,
  getModule,
  indexModules,
  listModules,
  MODULE_CATALOG,
} from "../../modules/registry.ts";
import { LOGIC_MODULES } from "../../modules/logic/mod.ts";
import { TRIGGERS } from "../../triggers/catalogue.ts";
import { fakeAction } from "../engine/fake_modules.ts";
import { validateWorkflow } from "../../engine/validate.ts";
import { parseWorkflowYaml } from "../../engine/yaml_codec.ts";

Deno.test("the registry lists MISP's logic modules and stop-execution by id", () => {
  const logic = listModules("logic").map((module) => module.descriptor.id).sort();
  assert.deepEqual(logic, [
    "aggregate_comparator_if",
    "concurrent-task",
    "count-if",
    "distribution-if",
    "filter-tag",
    "filter-timestamp",
    "generic-filter-data",
    "generic-filter-reset",
    "generic-if",
    "organisation-if",
    "published-if",
    "tag-if",
    "threat-level-if",
  ]);
  assert.equal(getModule("stop-execution")?.descriptor.blocking, true);
  assert.equal(getModule("event-publish"), undefined, "triggers are not executable modules");
  assert.equal(getModule("no-such-module"), undefined);
  assert.ok(listModules("action").every((module) => module.descriptor.module_type === "action"));
  assert.equal(listModules().length, listModules("logic").length + listModules("action").length);
});

Deno.test("MODULE_CATALOG describes triggers, logic and action modules", () => {
  for (const trigger of TRIGGERS) {
    assert.equal(MODULE_CATALOG.describe(trigger.descriptor.id), trigger.descriptor);
  }
  assert.equal(MODULE_CATALOG.describe("tag-if")?.version, "0.4");
  assert.equal(MODULE_CATALOG.describe("stop-execution")?.outputs, 0);
  assert.equal(MODULE_CATALOG.describe("nope"), undefined);
});

Deno.test("indexModules() refuses duplicate ids, also against trigger ids", () => {
  assert.throws(
    () => indexModules([...LOGIC_MODULES, fakeAction("tag-if", [])]),
    (error: unknown) =>
      error instanceof DuplicateModuleError &&
      error.message === 'Cannot load modules: id "tag-if" is declared twice',
  );
  assert.throws(
    () => indexModules([fakeAction("event-publish", [])], ["event-publish"]),
    DuplicateModuleError,
  );
  assert.equal(indexModules(LOGIC_MODULES).size, LOGIC_MODULES.length);
});

Deno.test("logic descriptors keep MISP's ids, versions, outputs and defaults", () => {
  const expected: Record<string, [string, string, number, boolean]> = {
    "generic-if": ["IF :: Generic", "0.2", 2, true],
    "tag-if": ["IF :: Tag", "0.4", 2, true],
    "distribution-if": ["IF :: Distribution", "0.3", 2, true],
    "organisation-if": ["IF :: Organisation", "0.2", 2, true],
    "published-if": ["IF :: Published", "0.1", 2, true],
    "threat-level-if": ["IF :: Threat Level", "0.1", 2, false],
    "count-if": ["IF :: Count", "0.1", 2, false],
    "concurrent-task": ["Concurrent Task", "0.1", 1, true],
    "generic-filter-data": ["Filter :: Generic", "0.2", 1, false],
    "generic-filter-reset": ["Filter :: Remove filter", "0.1", 1, false],
    "filter-tag": ["Filter :: Tag", "0.3", 1, false],
    "filter-timestamp": ["Filter :: Timestamp", "0.1", 1, false],
    "aggregate_comparator_if": ["IF :: Aggregate Comparator", "0.3", 2, false],
  };
  for (const [id, [name, version, outputs, enabled]] of Object.entries(expected)) {
    const descriptor = getModule(id)?.descriptor;
    assert.equal(descriptor?.name, name, id);
    assert.equal(descriptor?.version, version, id);
    assert.equal(descriptor?.outputs, outputs, id);
    assert.equal(descriptor?.enabled_by_default ?? false, enabled, id);
    assert.equal(descriptor?.blocking, false, id);
  }
  const defaults = (id: string) =>
    Object.fromEntries(
      (getModule(id)?.descriptor.params ?? []).map((param) => [param.id, param.default]),
    );
  assert.equal(defaults("threat-level-if").threatlevel, "Low");
  assert.deepEqual(defaults("organisation-if").org_id, [1]);
  assert.equal(defaults("distribution-if").distribution, "0");
  assert.equal(defaults("generic-filter-reset")["filtering-label"], "all");
  assert.equal(getModule("concurrent-task")?.descriptor.multiple_output_connection, true);
});

Deno.test("generic-filter-data's selector and hash path are MISP's hashpath params", () => {
  const params = getModule("generic-filter-data")?.descriptor.params ?? [];
  const byId = Object.fromEntries(params.map((param) => [param.id, param]));
  assert.equal(byId.selector?.type, "hashpath");
  assert.deepEqual(byId.selector?.hashpath, { is_sub_selector: false });
  assert.equal(byId.hash_path?.type, "hashpath");
  assert.deepEqual(byId.hash_path?.hashpath, { is_sub_selector: true });
});

Deno.test("send-report-to-cti-info-extractor is catalogued as not supported, with its params", () => {
  const descriptor = MODULE_CATALOG.describe("send-report-to-cti-info-extractor");
  assert.equal(descriptor?.module_type, "action");
  assert.deepEqual(descriptor?.params.map((param) => [param.id, param.default]), [
    ["insert_executive_summary", "yes"],
    ["tag_event_with_threat_actor", "yes"],
    ["tag_event_with_threat_actor_country", "yes"],
    ["tag_event_with_threat_actor_motivation", "yes"],
  ]);
  assert.match(descriptor?.unsupported ?? "", /AI services/);
  assert.equal(getModule("send-report-to-cti-info-extractor"), undefined, "not runnable");
});

Deno.test("validation refuses an unsupported module with its reason", () => {
  const workflow = parseWorkflowYaml(
    [
      "name: cti",
      "trigger: event-report-after-save",
      "start: extract",
      "nodes:",
      "  extract:",
      "    module: send-report-to-cti-info-extractor",
      "    params: { insert_executive_summary: 'no' }",
    ].join("\n"),
    { catalog: MODULE_CATALOG },
  );
  const { errors } = validateWorkflow(workflow, MODULE_CATALOG);
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.equal(errors[0]?.node, "extract");
  assert.match(
    errors[0]?.message ?? "",
    /field "module": module "send-report-to-cti-info-extractor" is not supported by Flowgate: it sends event reports/,
  );
});
