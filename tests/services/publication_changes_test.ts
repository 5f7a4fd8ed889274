import assert from "node:assert/strict";
import { describePublicationChanges } from "../../engine/publication_changes.ts";
import { getApprovedSnapshot } from "../../store/approvals.ts";
import { startApprovalSetup } from "../fixtures/approval_setup.ts";

/** Parks the test event through the fake MISP and returns the approval id. */
async function park(setup: Awaited<ReturnType<typeof startApprovalSetup>>): Promise<string> {
  const answer = await setup.publish();
  assert.equal(answer.status, 403);
  const match = /awaiting approval ([0-9A-Z]{26})/.exec(JSON.stringify(answer.body.errors));
  assert.ok(match, `no approval id in ${JSON.stringify(answer.body)}`);
  return match[1]!;
}

Deno.test("an approval shows what its publication changes since the last approved one", async (t) => {
  await using setup = await startApprovalSetup();
  const first = await park(setup);

  await t.step("a never-published event: everything goes out", async () => {
    const approval = await setup.service.getApproval(first);
    assert.equal(approval?.changes?.basis, "first-publication");
    assert.deepEqual(approval?.changes?.attributes, { added: 2, changed: 0, removed: 0 });
    assert.deepEqual(approval?.changes?.tags, { added: 2, changed: 0, removed: 0 });
    assert.equal(approval?.snapshot?.max_attribute_id, 242_460);
  });

  await t.step("approving keeps the event's snapshot as the next comparison base", async () => {
    const result = await setup.service.decide(first, {
      actor: "slack:U1",
      role: "responder",
      decision: "approve",
    });
    assert.equal(result.approval.publish?.status, "published");
    const snapshot = await getApprovedSnapshot(setup.test.kv, result.approval.event.uuid);
    assert.deepEqual(snapshot?.tags, ['misp-galaxy:botnet="Asprox"', "tlp:amber"]);
  });

  await t.step(
    "the next publication lists only the new attribute and the tag changes",
    async () => {
      const event = setup.misp.event("1")!;
      const published = Number(event.publish_timestamp);
      assert.ok(published > 0);
      const attributes = event.Attribute as Record<string, unknown>[];
      const edit = await fetch(`${setup.misp.url}/events/edit/1`, {
        method: "POST",
        headers: { Authorization: setup.misp.apiKey, "Content-Type": "application/json" },
        body: JSON.stringify({
          Event: {
            Attribute: [...attributes, {
              id: "242461",
              uuid: "0b4a6f8e-2b8c-4c57-9d0b-3f7c9f1e0a11",
              category: "Network activity",
              type: "ip-dst",
              value: "198.51.100.23",
              to_ids: true,
              timestamp: String(published + 60),
            }],
            Tag: [{ id: "7", name: "tlp:amber" }, { id: "8", name: "type:OSINT" }],
          },
        }),
      });
      await edit.body?.cancel();
      const second = await park(setup);
      assert.notEqual(second, first);
      const changes = (await setup.service.getApproval(second))?.changes;
      assert.equal(changes?.basis, "since-last-publication");
      assert.deepEqual(changes?.attributes, { added: 1, changed: 0, removed: 0 });
      assert.deepEqual(changes?.tags, { added: 1, changed: 0, removed: 1 });
      assert.deepEqual(describePublicationChanges(changes!).slice(1), [
        "+1 attribute added",
        "  + Network activity/ip-dst 198.51.100.23 (IDS)",
        "+1 tag added, -1 tag removed",
        "  + type:OSINT",
        '  - misp-galaxy:botnet="Asprox"',
      ]);
    },
  );
});
