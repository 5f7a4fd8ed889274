import assert from "node:assert/strict";
import type { JsonObject } from "../../../engine/model.ts";
import { proposalAction } from "../../../modules/action/proposal_action.ts";
import { startFakeMisp } from "../../fakes/misp_server.ts";
import { coreFormat, createModuleContext, proposalsEvent } from "./misp_test_context.ts";

/** The real proposals event plus one proposal for a new attribute on the event. */
async function withNewProposal(): Promise<JsonObject> {
  const stored = await proposalsEvent();
  (stored.Event as JsonObject).ShadowAttribute = [{
    id: "3800",
    old_id: "0",
    event_id: "6676",
    type: "ip-dst",
    category: "Network activity",
    value: "198.51.100.7",
    to_ids: true,
  }];
  return stored;
}

function proposalIds(data: JsonObject): string[] {
  const event = data.Event as JsonObject;
  const own = (event.ShadowAttribute ?? []) as JsonObject[];
  const onAttributes = (event._AttributeFlattened as JsonObject[]).flatMap((attribute) =>
    (attribute.ShadowAttribute ?? []) as JsonObject[]
  );
  return [...own, ...onAttributes].map((proposal) => String(proposal.id));
}

Deno.test("proposal-action handles the proposals of the real shadow-proposals event", async (t) => {
  await t.step("accepts edit proposals, then reloads the event", async () => {
    await using misp = await startFakeMisp({ events: [await withNewProposal()] });
    const run = createModuleContext({
      module: proposalAction,
      data: coreFormat(await withNewProposal()),
      params: { action: "accept", proposal_type: "edit" },
      misp,
    });
    assert.equal(await proposalAction.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => [request.method, request.path]), [
      ["POST", "/shadowAttributes/accept/3770"],
      ["POST", "/shadowAttributes/accept/3771"],
      ["GET", "/events/view/6676"],
    ]);
    assert.deepEqual(proposalIds(run.data()), ["3800"]);
  });

  await t.step("discards new proposals only", async () => {
    await using misp = await startFakeMisp({ events: [await withNewProposal()] });
    const run = createModuleContext({
      module: proposalAction,
      data: coreFormat(await withNewProposal()),
      params: { action: "remove", proposal_type: "new" },
      misp,
    });
    assert.equal(await proposalAction.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => request.path), [
      "/shadowAttributes/discard/3800",
      "/events/view/6676",
    ]);
    assert.deepEqual(proposalIds(run.data()), ["3770", "3771"]);
  });

  await t.step("acts on the proposals of the filtered attributes", async () => {
    await using misp = await startFakeMisp({ events: [await withNewProposal()] });
    const run = createModuleContext({
      module: proposalAction,
      data: coreFormat(await withNewProposal()),
      params: { action: "accept", proposal_type: "any" },
      filters: {
        selector: "Event._AttributeFlattened.{n}",
        value: "baz.png",
        operator: "equals",
        path: "value",
      },
      misp,
    });
    assert.equal(await proposalAction.exec(run.context), true);
    assert.deepEqual(misp.requests.map((request) => request.path), [
      "/shadowAttributes/accept/3771",
      "/events/view/6676",
    ]);
  });

  await t.step("does nothing with MISP's default type 'all'", async () => {
    await using misp = await startFakeMisp({ events: [await withNewProposal()] });
    const run = createModuleContext({
      module: proposalAction,
      data: coreFormat(await withNewProposal()),
      misp,
    });
    assert.equal(run.context.params.proposal_type, "all");
    assert.equal(await proposalAction.exec(run.context), true);
    assert.equal(misp.requests.length, 0);
  });

  await t.step("surfaces MISP's 405 for a proposal that is gone", async () => {
    await using misp = await startFakeMisp({ events: [await proposalsEvent()] });
    const run = createModuleContext({
      module: proposalAction,
      data: coreFormat(await withNewProposal()),
      params: { proposal_type: "new" },
      misp,
    });
    await assert.rejects(
      () => Promise.resolve(proposalAction.exec(run.context)),
      /MISP refused "POST \/shadowAttributes\/accept\/3800" \(HTTP 405\): Invalid proposal\./,
    );
  });
});
