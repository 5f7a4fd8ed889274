import assert from "node:assert/strict";
import { eventFingerprint } from "../../../engine/event_fingerprint.ts";
import type { JsonObject } from "../../../engine/model.ts";
import { runWorkflow } from "../../../engine/run_workflow.ts";
import { parseWorkflowYaml } from "../../../engine/yaml_codec.ts";
import { getTrigger } from "../../../triggers/catalogue.ts";
import type { ApprovalGate, ApprovalRequest, GrantQuery } from "../../../engine/approval_gate.ts";
import {
  DEFAULT_APPROVAL_TIMEOUT_SECONDS,
  policyOf,
} from "../../../modules/action/require_approval.ts";
import { ENGINE_LOOKUPS, MODULE_CATALOG } from "../../../modules/registry.ts";
import { validateWorkflow } from "../../../engine/validate.ts";
import { testServices } from "../../engine/fake_modules.ts";
import { amberEvent, approvalWorkflowYaml } from "../../fixtures/approval_setup.ts";

/** An in-memory gate that records what the module asked. */
class RecordingGate implements ApprovalGate {
  grants = new Map<string, string>();
  requests: ApprovalRequest[] = [];
  consumed: GrantQuery[] = [];

  consumeGrant(query: GrantQuery): Promise<string | null> {
    this.consumed.push(query);
    const key = `${query.event_uuid}/${query.fingerprint}`;
    const id = this.grants.get(key) ?? null;
    this.grants.delete(key);
    return Promise.resolve(id);
  }
  peekGrant(query: GrantQuery): Promise<string | null> {
    return Promise.resolve(this.grants.get(`${query.event_uuid}/${query.fingerprint}`) ?? null);
  }
  requestApproval(request: ApprovalRequest): Promise<{ id: string; created: boolean }> {
    this.requests.push(request);
    return Promise.resolve({ id: "01APPROVAL0000000000000000", created: true });
  }
}

async function workflow(params: Record<string, string> = {}) {
  return parseWorkflowYaml(await approvalWorkflowYaml(params), { catalog: MODULE_CATALOG });
}

Deno.test("require-approval parks the run as pending-approval and opens an approval", async () => {
  const gate = new RecordingGate();
  const result = await runWorkflow(await workflow(), await amberEvent(), {
    ...ENGINE_LOOKUPS,
    services: { ...testServices(), approvals: gate },
  });
  assert.equal(result.outcome, "pending-approval");
  assert.equal(result.success, false);
  assert.equal(result.deciding_node_id, "approval");
  assert.match(result.errors[0]!, /Publication awaiting approval 01APPROVAL0000000000000000$/);
  const request = gate.requests[0]!;
  assert.equal(request.workflow, "require-approval-tlp-amber");
  assert.equal(request.event.uuid, "5c6ab833-676c-42f3-95d2-034f0a00020f");
  assert.equal(request.publisher, "admin@admin.test");
  assert.equal(
    request.reason,
    "tlp:amber event This is the description needs a second pair of eyes",
  );
  assert.deepEqual(request.policy, {
    approvers: ["role:responder"],
    quorum: 1,
    allow_self_approval: false,
    timeout_seconds: 86_400,
    reminder_seconds: 3_600,
    escalation_seconds: 14_400,
    escalate_to: ["role:admin"],
    on_timeout: "deny",
  });
});

Deno.test("require-approval lets the event through once when a grant matches its content", async (t) => {
  const data = await amberEvent();
  const normalized = getTrigger("event-publish")!.normalize(data);
  const gate = new RecordingGate();
  gate.grants.set(
    `5c6ab833-676c-42f3-95d2-034f0a00020f/${eventFingerprint(normalized)}`,
    "01GRANT",
  );

  await t.step("the grant is consumed and the run succeeds", async () => {
    const result = await runWorkflow(await workflow(), data, {
      ...ENGINE_LOOKUPS,
      services: { ...testServices(), approvals: gate },
    });
    assert.equal(result.outcome, "success");
    assert.equal(result.trace.at(-1)?.observed?.approval_grant, "01GRANT");
    assert.equal(gate.requests.length, 0);
  });

  await t.step("the next publication needs a new approval", async () => {
    const result = await runWorkflow(await workflow(), data, {
      ...ENGINE_LOOKUPS,
      services: { ...testServices(), approvals: gate },
    });
    assert.equal(result.outcome, "pending-approval");
    assert.equal(gate.requests.length, 1);
  });
});

Deno.test("require-approval in a dry run records the approval it would ask for", async (t) => {
  await t.step("without a gate (CLI)", async () => {
    const result = await runWorkflow(await workflow(), await amberEvent(), {
      ...ENGINE_LOOKUPS,
      services: testServices(),
      dryRun: true,
    });
    assert.equal(result.outcome, "pending-approval");
    const actions = result.trace.at(-1)?.actions ?? [];
    assert.equal(actions.length, 1);
    assert.equal(actions[0]!.dry, true);
    assert.match(actions[0]!.summary, /^Ask 1 of role:responder to approve event /);
  });

  await t.step("with a gate: nothing is opened and no grant is consumed", async () => {
    const gate = new RecordingGate();
    const result = await runWorkflow(await workflow(), await amberEvent(), {
      ...ENGINE_LOOKUPS,
      services: { ...testServices(), approvals: gate },
      dryRun: true,
    });
    assert.equal(result.outcome, "pending-approval");
    assert.deepEqual(gate.requests, []);
    assert.deepEqual(gate.consumed, []);
  });
});

Deno.test("require-approval refuses what it cannot gate", async (t) => {
  await t.step("without a gate outside a dry run the run fails closed", async () => {
    const result = await runWorkflow(await workflow(), await amberEvent(), {
      ...ENGINE_LOOKUPS,
      services: testServices(),
    });
    assert.equal(result.outcome, "blocked");
    assert.match(result.errors[0]!, /the approval gate is off/);
  });

  await t.step("on a non-blocking trigger", async () => {
    const source = (await approvalWorkflowYaml()).replace(
      "trigger: event-publish",
      "trigger: event-after-save-new",
    );
    const result = await runWorkflow(
      parseWorkflowYaml(source, { catalog: MODULE_CATALOG }),
      await amberEvent(),
      { ...ENGINE_LOOKUPS, services: { ...testServices(), approvals: new RecordingGate() } },
    );
    assert.equal(result.trace.at(-1)?.status, "failure");
    assert.match(
      result.trace.at(-1)?.errors[0] ?? "",
      /Cannot require approval on trigger "event-after-save-new": it is not blocking/,
    );
  });

  await t.step("an event without uuid", async () => {
    const data = await amberEvent();
    delete (data.Event as JsonObject).uuid;
    const result = await runWorkflow(await workflow(), data, {
      ...ENGINE_LOOKUPS,
      services: { ...testServices(), approvals: new RecordingGate() },
    });
    assert.equal(result.outcome, "blocked");
    assert.match(result.errors[0]!, /the data has no Event\.uuid/);
  });
});

Deno.test("policyOf() applies defaults and bounds", () => {
  assert.deepEqual(policyOf({}), {
    approvers: ["role:responder"],
    quorum: 1,
    allow_self_approval: false,
    timeout_seconds: DEFAULT_APPROVAL_TIMEOUT_SECONDS,
    reminder_seconds: 0,
    escalation_seconds: 0,
    escalate_to: [],
    on_timeout: "deny",
  });
  const policy = policyOf({
    approvers: ["slack:U1", ""],
    quorum: "99",
    allow_self_approval: true,
    timeout_seconds: "0",
    on_timeout: "allow",
  });
  assert.deepEqual(policy.approvers, ["slack:U1"]);
  assert.equal(policy.quorum, 10);
  assert.equal(policy.allow_self_approval, true);
  assert.equal(policy.timeout_seconds, 1);
  assert.equal(policy.on_timeout, "allow");
});

Deno.test("require-approval params are refused at save unless they are whole numbers in range", async (t) => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ quorum: "two" }, "params.quorum", /whole number from 1 to 10, got "two"/],
    [{ quorum: "0" }, "params.quorum", /whole number from 1 to 10, got 0/],
    [{ quorum: "11" }, "params.quorum", /got 11/],
    [{ timeout_seconds: '"-5"' }, "params.timeout_seconds", /from 1 to 2592000, got "-5"/],
    [{ timeout_seconds: '"1.5"' }, "params.timeout_seconds", /got "1\.5"/],
    [{ reminder_seconds: '"soon"' }, "params.reminder_seconds", /from 0 to 2592000/],
    [{ escalation_seconds: '"-1"' }, "params.escalation_seconds", /from 0 to 2592000/],
  ];
  for (const [params, field, message] of cases) {
    await t.step(JSON.stringify(params), async () => {
      const { errors } = validateWorkflow(await workflow(params), MODULE_CATALOG);
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.equal(errors[0]?.node, "approval");
      assert.equal(errors[0]?.field, field);
      assert.match(errors[0]!.message, message);
    });
  }
  await t.step("the example's values and the bounds pass", async () => {
    const params = { quorum: '"10"', timeout_seconds: '"2592000"', reminder_seconds: '"0"' };
    assert.deepEqual(validateWorkflow(await workflow(params), MODULE_CATALOG).errors, []);
    assert.deepEqual(validateWorkflow(await workflow(), MODULE_CATALOG).errors, []);
  });
});
