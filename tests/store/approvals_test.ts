import assert from "node:assert/strict";
import type { ApprovalRequest } from "../../engine/approval_gate.ts";
import { policyOf } from "../../modules/action/require_approval.ts";
import {
  appendHistory,
  type ApprovalHistoryEntry,
  consumeGrant,
  createApproval,
  getApproval,
  isApprovalMessage,
  listApprovals,
  MAX_APPROVAL_HISTORY,
  peekGrant,
  updateApproval,
} from "../../store/approvals.ts";

const NOW = Date.parse("2026-11-28T09:00:00Z");

function request(fields: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    workflow: "require-approval-tlp-amber",
    node_id: "approval",
    event: {
      uuid: "5c6ab833-676c-42f3-95d2-034f0a00020f",
      id: "1",
      info: "This is the description",
      tlp: ["tlp:amber"],
      attribute_count: 2,
    },
    fingerprint: "f1",
    reason: "Needs approval",
    policy: policyOf({ timeout_seconds: "600" }),
    ...fields,
  };
}

/** Approves `id` in the store directly, leaving a grant like the service does. */
async function approveWithGrant(kv: Deno.Kv, id: string, expiresAt: number) {
  await updateApproval(kv, id, (record) => ({
    next: { ...record, state: "approved" },
    extras: {
      closeOpen: true,
      grant: {
        query: { event_uuid: record.event.uuid, fingerprint: record.fingerprint },
        grant: { approval_id: id, expires_at: new Date(expiresAt).toISOString() },
      },
    },
  }));
}

Deno.test("createApproval() opens one approval per workflow node, event and content", async (t) => {
  using kv = await Deno.openKv(":memory:");
  const first = await createApproval(kv, request(), { now: NOW });
  assert.equal(first.created, true);
  assert.equal(first.record.state, "pending");
  assert.equal(first.record.timeout_at, "2026-11-28T09:10:00.000Z");
  assert.equal(first.record.history[0]?.type, "created");

  await t.step("the same content finds the pending approval", async () => {
    const again = await createApproval(kv, request(), { now: NOW + 1_000 });
    assert.equal(again.created, false);
    assert.equal(again.record.id, first.record.id);
  });

  await t.step("changed content supersedes it", async () => {
    const changed = await createApproval(kv, request({ fingerprint: "f2" }), { now: NOW + 2_000 });
    assert.equal(changed.created, true);
    assert.equal(changed.superseded?.id, first.record.id);
    assert.equal((await getApproval(kv, first.record.id))?.state, "superseded");
  });

  await t.step("another workflow gets its own approval", async () => {
    const other = await createApproval(kv, request({ workflow: "other" }), { now: NOW + 3_000 });
    assert.equal(other.created, true);
    assert.equal((await listApprovals(kv, { state: "pending" })).length, 2);
  });
});

Deno.test("consumeGrant() lets exactly one caller through, for the approved content only", async (t) => {
  using kv = await Deno.openKv(":memory:");
  const { record } = await createApproval(kv, request(), { now: NOW });
  await approveWithGrant(kv, record.id, NOW + 60_000);
  const query = { event_uuid: record.event.uuid, fingerprint: "f1" };

  await t.step("other content finds no grant", async () => {
    assert.equal(await consumeGrant(kv, { ...query, fingerprint: "f2" }, { now: NOW }), null);
  });

  await t.step("peeking does not consume", async () => {
    assert.equal(await peekGrant(kv, query, { now: NOW }), record.id);
  });

  await t.step("of concurrent consumers exactly one wins", async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, () => consumeGrant(kv, query, { now: NOW })),
    );
    assert.deepEqual(results.filter((id) => id !== null), [record.id]);
    assert.equal(await peekGrant(kv, query, { now: NOW }), null);
  });
});

Deno.test("consumeGrant() refuses an expired grant", async () => {
  using kv = await Deno.openKv(":memory:");
  const { record } = await createApproval(kv, request(), { now: NOW });
  await approveWithGrant(kv, record.id, NOW + 1_000);
  const query = { event_uuid: record.event.uuid, fingerprint: "f1" };
  assert.equal(await peekGrant(kv, query, { now: NOW + 2_000 }), null);
  assert.equal(await consumeGrant(kv, query, { now: NOW + 2_000 }), null);
});

Deno.test("listApprovals() puts pending approvals first and filters", async () => {
  using kv = await Deno.openKv(":memory:");
  const a = await createApproval(kv, request({ workflow: "a" }), { now: NOW });
  const b = await createApproval(kv, request({ workflow: "b" }), { now: NOW + 1 });
  const c = await createApproval(kv, request({ workflow: "c" }), { now: NOW + 2 });
  await updateApproval(kv, c.record.id, (record) => ({ next: { ...record, state: "denied" } }));
  await updateApproval(kv, a.record.id, (record) => ({ next: { ...record, state: "approved" } }));
  assert.deepEqual((await listApprovals(kv)).map((item) => item.workflow), ["b", "c", "a"]);
  assert.deepEqual((await listApprovals(kv, { state: "denied" })).map((item) => item.id), [
    c.record.id,
  ]);
  assert.deepEqual((await listApprovals(kv, { workflow: "b" })).map((item) => item.id), [
    b.record.id,
  ]);
  assert.deepEqual(await listApprovals(kv, { event: "unknown" }), []);
});

Deno.test("createApproval() enqueues its timeout with the record, durable in KV", async () => {
  using kv = await Deno.openKv(":memory:");
  const received: unknown[] = [];
  const { promise, resolve } = Promise.withResolvers<void>();
  const listening = kv.listenQueue((message) => {
    received.push(message);
    resolve();
  });
  const { record } = await createApproval(
    kv,
    request({ policy: policyOf({ timeout_seconds: "1" }) }),
    {
      now: Date.now(),
    },
  );
  await promise;
  assert.deepEqual(received, [{ type: "approval", kind: "timeout", id: record.id }]);
  assert.equal(isApprovalMessage(received[0]), true);
  kv.close();
  await listening;
});

Deno.test("appendHistory() keeps the first entry and the latest ones under the cap", () => {
  let history: ApprovalHistoryEntry[] = [{ at: "0", type: "created" }];
  for (let i = 1; i <= MAX_APPROVAL_HISTORY + 5; i++) {
    history = appendHistory(history, { at: String(i), type: "reminder" });
  }
  assert.equal(history.length, MAX_APPROVAL_HISTORY);
  assert.equal(history[0]?.type, "created");
  assert.equal(history.at(-1)?.at, String(MAX_APPROVAL_HISTORY + 5));
});
