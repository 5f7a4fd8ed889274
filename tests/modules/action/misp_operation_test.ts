import assert from "node:assert/strict";
import { endpointOf } from "../../../modules/action/lib/misp_operation.ts";
import { sha256Hex } from "../../../engine/digest.ts";
import { attributeIdsFlagOperation } from "../../../modules/action/attribute_ids_flag_operation.ts";
import { createSightingContext, startSightingMisp } from "./misp_test_context.ts";

Deno.test("endpointOf() drops ids and named params from a MISP path", () => {
  assert.equal(endpointOf("/attributes/edit/12"), "/attributes/edit");
  assert.equal(endpointOf("/events/view/12/includeDecayScore:1"), "/events/view");
  assert.equal(endpointOf("/tags/attachTagToObject"), "/tags/attachTagToObject");
});

Deno.test("callMisp() records the SHA-256 of the exact body sent, live and dry alike", async () => {
  await using misp = await startSightingMisp();
  const live = await createSightingContext({
    module: attributeIdsFlagOperation,
    params: { action: "remove" },
    misp,
  });
  await attributeIdsFlagOperation.exec(live.context);
  const sent = JSON.stringify(misp.requests[0]?.body);
  assert.equal(live.records[0]?.body_digest, await sha256Hex(sent));
  assert.equal(
    await sha256Hex(""),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );

  const dry = await createSightingContext({
    module: attributeIdsFlagOperation,
    params: { action: "remove" },
    misp,
    dryRun: true,
  });
  await attributeIdsFlagOperation.exec(dry.context);
  assert.deepEqual({ ...dry.records[0], dry: false }, live.records[0]);
});
