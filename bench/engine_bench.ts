/**
 * The engine alone deciding a 5-node blocking workflow (tag-if, distribution-if, generic-if with a
 * conditional hash path, organisation-if, stop-execution) on generated events of 1,000, 10,000 and
 * 100,000 attributes: parse, normalise and walk, each and together. `deno task bench`.
 *
 * @module
 */

import { offlineServices } from "../modules/offline_services.ts";
import type { JsonObject, Workflow } from "../engine/model.ts";
import { runWorkflow } from "../engine/run_workflow.ts";
import type { ModuleServices } from "../engine/module_services.ts";
import { requireTrigger } from "../triggers/catalogue.ts";
import { randomEvent } from "../tests/fixtures/random_event.ts";
import { ENGINE_LOOKUPS } from "../modules/registry.ts";

const SIZES = [1_000, 10_000, 100_000];

const SERVICES: ModuleServices = offlineServices();

/**
 * Blocks a publication that carries a TLP tag, is shared beyond the organisation or not, has an
 * ip-dst and comes from org 1: every generated event goes through all five nodes to the block.
 */
const WORKFLOW: Workflow = {
  name: "bench-five-nodes",
  description: "Five-node blocking workflow for the engine benchmark",
  trigger: "event-publish",
  enabled: true,
  order: 100,
  on_timeout: "block",
  nodes: [
    { id: "trigger", module: "event-publish", kind: "trigger", params: {}, next: [["tags"]] },
    {
      id: "tags",
      module: "tag-if",
      kind: "logic",
      params: {
        scope: "event_attribute",
        condition: "in_or",
        tags: ["tlp:clear", "tlp:green", "tlp:amber", "tlp:amber+strict", "tlp:red"],
      },
      next: [["distribution"], []],
    },
    {
      id: "distribution",
      module: "distribution-if",
      kind: "logic",
      params: { scope: "event", condition: "more_restrictive_or_equal_than", distribution: "3" },
      next: [["ips"], []],
    },
    {
      id: "ips",
      module: "generic-if",
      kind: "logic",
      params: {
        operator: "any_value",
        hash_path: "Event._AttributeFlattened.{n}[type=ip-dst].value",
      },
      next: [["org"], []],
    },
    {
      id: "org",
      module: "organisation-if",
      kind: "logic",
      params: { org_type: "orgc", condition: "in", org_id: ["1"] },
      next: [["stop"], []],
    },
    {
      id: "stop",
      module: "stop-execution",
      kind: "action",
      params: { message: "Blocked {{ Event.uuid }}" },
      next: [],
    },
  ],
};

const trigger = requireTrigger("event-publish");

for (const size of SIZES) {
  const raw = JSON.stringify(randomEvent({ attributes: size, tags: 3, seed: 7 }));
  const parsed = JSON.parse(raw) as JsonObject;
  const normalized = trigger.normalize(parsed);
  const group = `${size.toLocaleString("en")} attributes`;
  const n = size >= 100_000 ? 10 : undefined;
  const warmup = size >= 100_000 ? 2 : undefined;

  Deno.bench(`parse (${group})`, { group, n, warmup }, () => {
    JSON.parse(raw);
  });
  Deno.bench(`normalise (${group})`, { group, n, warmup }, () => {
    trigger.normalize(parsed);
  });
  Deno.bench(`walk (${group})`, { group, n, warmup }, async () => {
    await runWorkflow(WORKFLOW, normalized, { ...ENGINE_LOOKUPS, services: SERVICES });
  });
  Deno.bench(
    `parse + normalise + walk (${group})`,
    { group, n, warmup, baseline: true },
    async () => {
      const result = await runWorkflow(WORKFLOW, JSON.parse(raw) as JsonObject, {
        ...ENGINE_LOOKUPS,
        services: SERVICES,
      });
      if (result.outcome !== "blocked") throw new Error(`Expected a block, got ${result.outcome}`);
    },
  );
}
