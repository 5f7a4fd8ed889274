import assert from "node:assert/strict";
import { putChatRole } from "../../store/chat_roles.ts";
import { listAudit } from "../../store/audit.ts";
import { PUBLISHER, startApprovalSetup } from "../fixtures/approval_setup.ts";

/** Calls `/api…` of the real app with the admin token. */
function routesOf(setup: Awaited<ReturnType<typeof startApprovalSetup>>) {
  return (path: string, body?: unknown) =>
    setup.test.admin(`/api${path}`, {
      method: body === undefined ? "GET" : "POST",
      ...(body === undefined ? {} : {
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }),
    });
}

async function park(setup: Awaited<ReturnType<typeof startApprovalSetup>>): Promise<string> {
  const answer = await setup.publish();
  return /awaiting approval ([0-9A-Z]{26})/.exec(JSON.stringify(answer.body))![1]!;
}

Deno.test("/api/approvals lists, shows and decides with the actor recorded", async (t) => {
  await using setup = await startApprovalSetup();
  const request = routesOf(setup);
  await putChatRole(setup.test.kv, {
    platform: "telegram",
    user_id: "42",
    role: "viewer",
    granted_by: "test",
    granted_at: new Date().toISOString(),
  });
  const id = await park(setup);

  await t.step("GET / lists pending approvals, with filters", async () => {
    const response = await request("/approvals");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual((await response.json()).items.map((item: { id: string }) => item.id), [id]);
    const denied = await (await request("/approvals?state=denied")).json();
    assert.deepEqual(denied.items, []);
    const bad = await request("/approvals?state=maybe");
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /Unknown state "maybe"/);
  });

  await t.step("GET /:id shows the history; an unknown id is 404", async () => {
    const approval = await (await request(`/approvals/${id}`)).json();
    assert.equal(approval.history[0].type, "created");
    assert.equal((await request("/approvals/01UNKNOWN00000000000000000")).status, 404);
  });

  await t.step(
    "a chat viewer named as approver acts with the viewer role and is refused",
    async () => {
      const response = await request(`/approvals/${id}/approve`, { approver: "telegram:42" });
      assert.equal(response.status, 403);
      assert.match((await response.json()).error, /"telegram:42" \(role "viewer"\)/);
    },
  );

  await t.step("the publisher named as approver is refused", async () => {
    const response = await request(`/approvals/${id}/approve`, { approver: PUBLISHER });
    assert.equal(response.status, 403);
    assert.match((await response.json()).error, /self-approval is off/);
  });

  await t.step("the admin denies; a second deny changes nothing", async () => {
    const response = await request(`/approvals/${id}/deny`, { reason: "Not now" });
    assert.equal(response.status, 200);
    const result = await response.json();
    assert.equal(result.changed, true);
    assert.equal(result.approval.decision.actor, "api:admin");
    const again = await (await request(`/approvals/${id}/deny`, {})).json();
    assert.equal(again.changed, false);
    const audit = await listAudit(setup.test.kv);
    assert.ok(
      audit.items.some((entry) => entry.action === "approval.deny" && entry.actor === "api:admin"),
    );
  });

  await t.step("a malformed body is 400; no token is 401", async () => {
    const response = await request(`/approvals/${id}/approve`, { approver: 7 });
    assert.equal(response.status, 400);
    const anonymous = await setup.test.request(`/api/approvals/${id}`);
    assert.equal(anonymous.status, 401);
  });
});
