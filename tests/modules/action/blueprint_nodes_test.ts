import assert from "node:assert/strict";
import type { JsonObject, NodeFilters } from "../../../engine/model.ts";
import { attributeIdsFlagOperation } from "../../../modules/action/attribute_ids_flag_operation.ts";
import { tagOperation } from "../../../modules/action/tag_operation.ts";
import type { WorkflowModule } from "../../../engine/module.ts";
import {
  coreFormat,
  createModuleContext,
  readSharedData,
  sightingEvent,
  startSightingMisp,
} from "./misp_test_context.ts";

/** The `data` of the first action node of a real blueprint with module `id`. */
async function blueprintNode(file: string, id: string): Promise<JsonObject> {
  const found: JsonObject[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === "object" && value !== null) {
      const data = (value as JsonObject).data as JsonObject | undefined;
      if (data?.module_type === "action" && data.id === id) found.push(data);
      Object.values(value).forEach(visit);
    }
  };
  visit(await readSharedData(file));
  assert.ok(found[0], `${file} has a ${id} node`);
  return found[0];
}

/** sighting_2 in core format with enrichment results on its two attributes. */
async function enrichedEvent(results: [unknown, unknown]): Promise<JsonObject> {
  const data = coreFormat(await sightingEvent());
  const event = data.Event as JsonObject;
  for (const key of ["_AttributeFlattened", "Attribute"]) {
    event[key] = (event[key] as JsonObject[]).map((attribute, index) => ({
      ...attribute,
      enrichment: [results[index]],
    }));
  }
  return data;
}

function bgpRanking(position: string): JsonObject {
  return {
    Object: [{
      name: "bgp-ranking",
      Attribute: [
        { object_relation: "asn", type: "AS", value: "5577" },
        { object_relation: "position", type: "float", value: position },
      ],
    }],
  };
}

async function runNode(module: WorkflowModule, node: JsonObject, data: JsonObject) {
  await using misp = await startSightingMisp();
  const run = createModuleContext({
    module,
    data,
    params: node.indexed_params as Record<string, unknown>,
    filters: node.saved_filters as NodeFilters,
    misp,
  });
  const result = await module.exec(run.context);
  return { result, requests: [...misp.requests], data: run.data() };
}

Deno.test("the BGP-ranking blueprint's tag_operation tags only well-ranked attributes", async () => {
  const node = await blueprintNode(
    "blueprint_set-tag-based-on-bgp-ranking-maliciousness-level_1668498668.json",
    "tag_operation",
  );
  const data = await enrichedEvent([bgpRanking("80"), bgpRanking("12")]);
  const { result, requests } = await runNode(tagOperation, node, data);
  assert.equal(result, true);
  assert.deepEqual(requests.map((request) => request.body), [{
    uuid: "5c764091-273c-4821-92ad-0e1a0a00020f",
    tag: 'adversary:infrastructure-state="active"',
    local: true,
  }]);
});

Deno.test("the hashlookup blueprint's IDS-flag node clears to_ids of known files only", async () => {
  const node = await blueprintNode(
    "blueprint_disable-to_ids-flag-for-existing-hash-in-hashlookup_1667228944.json",
    "attribute_ids_flag_operation",
  );
  const known = {
    Object: [{
      name: "hashlookup",
      Attribute: [{ object_relation: "FileName", type: "filename", value: "kernel32.dll" }],
    }],
  };
  const data = await enrichedEvent([{ Object: [] }, known]);
  const { result, requests, data: after } = await runNode(attributeIdsFlagOperation, node, data);
  assert.equal(result, true);
  assert.deepEqual(requests.map((request) => [request.path, request.body]), [
    ["/attributes/edit/242460", { Attribute: { to_ids: false } }],
  ]);
  const flattened = (after.Event as JsonObject)._AttributeFlattened as JsonObject[];
  assert.equal(flattened[1]?.to_ids, false);
  assert.ok(Array.isArray(flattened[1]?.enrichment), "the rest of the attribute is kept");
});
