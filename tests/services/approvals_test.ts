import assert from "node:assert/strict";
import { getApproval, listApprovals } from "../../store/approvals.ts";
import { listAudit } from "../../store/audit.ts";
import { getRun, listRuns } from "../../store/runs.ts";
import type { MispApi } from "../../engine/module_services.ts";
import {
  type ApprovalChange,
  ApprovalRefusedError,
  createApprovalService,
  STATE_RECHECK_MS,
} from "../../services/approvals.ts";
import { PUBLISHER, startApprovalSetup } from "../fixtures/approval_setup.ts";

const RESPONDER = { actor: "slack:U1", role: "responder" as const };

/** Parks the test event: a user publishes it in MISP, the gate blocks it. Returns the approval id. */
async function park(setup: Awaited<ReturnType<typeof startApprovalSetup>>): Promise<string> {
  const answer = await setup.publish();
  assert.equal(answer.status, 403);
  const reason = JSON.stringify(answer.body.errors);
  const match = /awaiting approval ([0-9A-Z]{26})/.exec(reason);
  assert.ok(match, `no approval id in ${reason}`);
  return match[1]!;
}

Deno.test("require-approval parks a tlp:amber publication and an approval publishes it once", async (t) => {
  await using setup = await startApprovalSetup();
  const changes: ApprovalChange["kind"][] = [];
  setup.service.onApprovalChanged((change) => {
    changes.push(change.kind);
  });
  const id = await park(setup);

  await t.step("the run is pending-approval and the approval is listed as pending", async () => {
    const runs = await listRuns(setup.test.kv, { outcome: "pending-approval" });
    assert.equal(runs.items.length, 1);
    const approval = await setup.service.getApproval(id);
    assert.equal(approval?.state, "pending");
    assert.equal(approval?.run_id, runs.items[0]!.id);
    assert.equal(approval?.publisher, PUBLISHER);
    assert.deepEqual(approval?.event.tlp, ["tlp:amber"]);
    assert.equal(setup.misp.event("1")?.published, false);
  });

  await t.step("publishing again while pending reuses the approval", async () => {
    assert.equal(await park(setup), id);
    assert.equal((await listApprovals(setup.test.kv)).length, 1);
  });

  await t.step(
    "an allowed approver's approval publishes through MISP and the gate lets it pass",
    async () => {
      const before = setup.publishCalls();
      const result = await setup.service.decide(id, { ...RESPONDER, decision: "approve" });
      assert.equal(result.changed, true);
      assert.equal(result.approval.state, "approved");
      assert.equal(result.approval.publish?.status, "published");
      assert.equal(setup.publishCalls(), before + 1);
      assert.equal(setup.misp.event("1")?.published, true);
      const check = result.approval.history.find((entry) => entry.type === "state-check");
      assert.equal(check?.details?.ok, true);
      const passed = (await listRuns(setup.test.kv, { outcome: "success" })).items;
      assert.equal(passed.length, 1);
      const run = await getRun(setup.test.kv, passed[0]!.id);
      assert.equal(run?.trace.at(-1)?.observed?.approval_grant, id);
      assert.deepEqual(changes, ["created", "approved", "published"]);
    },
  );

  await t.step("a second press changes nothing and publishes nothing", async () => {
    const calls = setup.publishCalls();
    const again = await setup.service.decide(id, { ...RESPONDER, decision: "approve" });
    assert.equal(again.changed, false);
    assert.match(again.message, /already approved/);
    const deny = await setup.service.decide(id, { ...RESPONDER, decision: "deny" });
    assert.equal(deny.changed, false);
    assert.equal(setup.publishCalls(), calls);
  });

  await t.step("the grant is used up: a changed event needs a new approval", async () => {
    const edit = await fetch(`${setup.misp.url}/events/edit/1`, {
      method: "POST",
      headers: { Authorization: setup.misp.apiKey, "Content-Type": "application/json" },
      body: JSON.stringify({ Event: { info: "Changed after approval" } }),
    });
    await edit.body?.cancel();
    const next = await park(setup);
    assert.notEqual(next, id);
    assert.equal(setup.misp.event("1")?.published, false);
  });
});

Deno.test("ApprovalService.decide() refuses self-approval and approvers without the role", async (t) => {
  await using setup = await startApprovalSetup();
  const id = await park(setup);

  await t.step("the publisher, although admin, may not approve", async () => {
    await assert.rejects(
      setup.service.decide(id, {
        actor: `api:${PUBLISHER}`,
        role: "admin",
        identities: [PUBLISHER],
        decision: "approve",
      }),
      (error: unknown) =>
        error instanceof ApprovalRefusedError && /self-approval is off/.test(error.message),
    );
  });

  await t.step("a viewer may not approve", async () => {
    await assert.rejects(
      setup.service.decide(id, { actor: "telegram:42", role: "viewer", decision: "approve" }),
      (error: unknown) =>
        error instanceof ApprovalRefusedError &&
        error.message ===
          `Cannot approve approval "${id}": "telegram:42" (role "viewer") is not an approver: allowed are role "responder" or higher`,
    );
  });

  await t.step("refusals are recorded and change nothing else", async () => {
    const approval = await getApproval(setup.test.kv, id);
    assert.equal(approval?.state, "pending");
    assert.equal(approval?.history.filter((entry) => entry.type === "refused").length, 2);
    assert.equal(setup.publishCalls(), 1);
    const audit = await listAudit(setup.test.kv);
    assert.equal(audit.items.filter((entry) => entry.action === "approval.refused").length, 2);
  });

  await t.step("the publisher may deny their own event", async () => {
    const result = await setup.service.decide(id, {
      actor: `api:${PUBLISHER}`,
      role: "admin",
      identities: [PUBLISHER],
      decision: "deny",
      reason: "Not ready",
    });
    assert.equal(result.approval.state, "denied");
    assert.equal(result.approval.decision?.reason, "Not ready");
    assert.equal(setup.publishCalls(), 1);
    assert.equal(result.approval.history.at(-1)?.type, "state-check");
    assert.equal(result.approval.history.at(-1)?.details?.ok, true);
  });
});

Deno.test("ApprovalService.decide() waits for the quorum of distinct approvers", async () => {
  await using setup = await startApprovalSetup({ quorum: '"2"' });
  const id = await park(setup);
  const first = await setup.service.decide(id, { ...RESPONDER, decision: "approve" });
  assert.equal(first.approval.state, "pending");
  const repeat = await setup.service.decide(id, { ...RESPONDER, decision: "approve" });
  assert.equal(repeat.changed, false);
  assert.equal(setup.publishCalls(), 1);
  const second = await setup.service.decide(id, {
    actor: "slack:U2",
    role: "admin",
    decision: "approve",
  });
  assert.equal(second.approval.state, "approved");
  assert.deepEqual(second.approval.votes.map((vote) => vote.actor), ["slack:U1", "slack:U2"]);
  assert.equal(setup.publishCalls(), 2);
  assert.equal(setup.misp.event("1")?.published, true);
});

Deno.test("ApprovalService.handleMessage() applies timeouts, reminders and escalations once", async (t) => {
  await t.step("timeout denies by default (fail closed)", async () => {
    await using setup = await startApprovalSetup();
    const id = await park(setup);
    const message = { type: "approval" as const, kind: "timeout" as const, id };
    await setup.service.handleMessage(message);
    await setup.service.handleMessage(message);
    const approval = await getApproval(setup.test.kv, id);
    assert.equal(approval?.state, "denied");
    assert.equal(approval?.decision?.actor, "flowgate:timeout");
    assert.equal(approval?.history.filter((entry) => entry.type === "timeout").length, 1);
    assert.equal(setup.publishCalls(), 1);
  });

  await t.step("timeout with on_timeout allow publishes", async () => {
    await using setup = await startApprovalSetup({ on_timeout: "allow" });
    const id = await park(setup);
    await setup.service.handleMessage({ type: "approval", kind: "timeout", id });
    const approval = await getApproval(setup.test.kv, id);
    assert.equal(approval?.state, "approved");
    assert.equal(approval?.publish?.status, "published");
    assert.equal(setup.misp.event("1")?.published, true);
  });

  await t.step("reminder and escalation are recorded and announced once each", async () => {
    await using setup = await startApprovalSetup();
    const id = await park(setup);
    const kinds: string[] = [];
    setup.service.onApprovalChanged((change) => {
      kinds.push(change.kind);
    });
    for (const kind of ["remind", "remind", "escalate", "escalate"] as const) {
      await setup.service.handleMessage({ type: "approval", kind, id });
    }
    assert.deepEqual(kinds, ["reminder", "escalated"]);
    const approval = await getApproval(setup.test.kv, id);
    assert.equal(approval?.state, "pending");
  });
});

Deno.test("ApprovalService raises an alert when MISP's state contradicts a denial", async () => {
  await using setup = await startApprovalSetup();
  const id = await park(setup);
  const alerts: string[] = [];
  setup.service.onApprovalChanged((change) => {
    if (change.kind === "alert") alerts.push(change.message ?? "");
  });
  // MISP ignored the veto (MISP/MISP#10690): the event is published anyway.
  setup.misp.state.events.get("1")!.published = true;
  const result = await setup.service.decide(id, { ...RESPONDER, decision: "deny" });
  assert.equal(result.approval.history.at(-1)?.type, "alert");
  assert.equal(alerts.length, 1);
  assert.match(alerts[0]!, /as published although approval .* was denied/);
  const audit = await listAudit(setup.test.kv);
  assert.ok(audit.items.some((entry) => entry.action === "approval.alert" && entry.target === id));
});

Deno.test("ApprovalService retries a publication MISP failed on (5xx), re-arming the grant", async () => {
  await using setup = await startApprovalSetup();
  const id = await park(setup);
  setup.misp.failNext({ status: 500, count: 3 });
  const result = await setup.service.decide(id, { ...RESPONDER, decision: "approve" });
  assert.equal(result.approval.publish?.status, "failed");
  assert.equal(setup.misp.event("1")?.published, false);
  await setup.service.handleMessage({ type: "approval", kind: "publish", id });
  const approval = await getApproval(setup.test.kv, id);
  assert.equal(approval?.publish?.status, "published");
  assert.equal(approval?.publish?.attempts, 2);
  assert.equal(setup.misp.event("1")?.published, true);
});

Deno.test("ApprovalService does not publish an event changed after the approval was asked", async () => {
  await using setup = await startApprovalSetup();
  const id = await park(setup);
  const edit = await fetch(`${setup.misp.url}/events/edit/1`, {
    method: "POST",
    headers: { Authorization: setup.misp.apiKey, "Content-Type": "application/json" },
    body: JSON.stringify({ Event: { info: "Edited while waiting" } }),
  });
  await edit.body?.cancel();
  const result = await setup.service.decide(id, { ...RESPONDER, decision: "approve" });
  assert.equal(result.approval.publish?.status, "refused");
  assert.equal(setup.misp.event("1")?.published, false);
  assert.equal(result.approval.history.at(-1)?.type, "alert");
  await setup.service.handleMessage({ type: "approval", kind: "publish", id });
  assert.equal(setup.publishCalls(), 2);
  const pending = await listApprovals(setup.test.kv, { state: "pending" });
  assert.equal(pending.length, 1);
  assert.notEqual(pending[0]!.id, id);
});

Deno.test("ApprovalService checks MISP's state again when a publication is not visible yet", async () => {
  await using setup = await startApprovalSetup();
  const id = await park(setup);
  const client = setup.test.ctx.services.misp!;
  let views = 0;
  // MISP accepted the publication but publishes from a background job: the first view is stale.
  const lagging: MispApi = {
    request<T>(method: string, path: string, body?: unknown): Promise<T> {
      if (method === "GET" && views++ === 0) {
        return Promise.resolve({ Event: { published: false } } as T);
      }
      return client.request<T>(method, path, body);
    },
  };
  const service = createApprovalService({ kv: setup.test.kv, misp: lagging });
  const alerts: string[] = [];
  service.onApprovalChanged((change) => {
    if (change.kind === "alert") alerts.push(change.message ?? "");
  });
  const result = await service.decide(id, { ...RESPONDER, decision: "approve" });
  const first = result.approval.history.at(-1);
  assert.equal(first?.type, "state-check");
  assert.deepEqual(first?.details, {
    expected_published: true,
    published: false,
    ok: false,
    recheck_in_ms: STATE_RECHECK_MS,
  });
  await service.handleMessage({ type: "approval", kind: "check", id });
  const approval = await getApproval(setup.test.kv, id);
  assert.equal(approval?.history.at(-1)?.details?.ok, true);
  assert.deepEqual(alerts, []);
});
