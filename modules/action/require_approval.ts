/**
 * `require-approval` (Flowgate only): the four-eyes step of a blocking workflow. MISP cannot hold
 * a publication, so the node blocks it, parks the run as `pending-approval` and opens an approval;
 * once approved, Flowgate publishes the event through MISP's API and the grant the approval left
 * lets that one re-publication through. An event changed after approval needs a new approval.
 *
 * @module
 */

import { type JsonObject, PENDING_APPROVAL_KEY } from "../../engine/model.ts";
import { eventFingerprint } from "../../engine/event_fingerprint.ts";
import { getTrigger } from "../../triggers/catalogue.ts";
import type { ApprovalEvent, ApprovalPolicy, TimeoutOutcome } from "../../engine/approval_gate.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { isObject } from "./lib/node_filters.ts";
import { eventOf, stringList } from "./lib/roaming_event.ts";

/** Who approves when the node names nobody: chat responders and admins. */
export const DEFAULT_APPROVERS: readonly string[] = ["role:responder"];
/** Default time an approval waits for a decision: one day. */
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 86_400;
/** Default reminder: after one hour. */
export const DEFAULT_APPROVAL_REMINDER_SECONDS = 3_600;
/** Longest approval timeout: KV queue delays are capped at 30 days. */
export const MAX_APPROVAL_TIMEOUT_SECONDS = 2_592_000;
/** Most approvals a quorum may require. */
export const MAX_APPROVAL_QUORUM = 10;

/** The key under which the node records the approval whose grant it consumed. */
export const APPROVAL_GRANT_KEY = "approval_grant";

/** The message MISP shows for a parked publication (the verdict's block reason). */
export function awaitingApprovalMessage(id: string): string {
  return `Publication awaiting approval ${id}`;
}

/** Require approval. */
export const requireApproval: WorkflowModule = {
  descriptor: {
    id: "require-approval",
    name: "Require approval",
    version: "0.1",
    description:
      "Blocks the operation until enough approvers agree in chat or the API; Flowgate then publishes the event once",
    module_type: "action",
    icon: "user-check",
    inputs: 1,
    outputs: 1,
    blocking: true,
    expect_misp_core_format: true,
    support_filters: false,
    multiple_output_connection: false,
    flowgate_only: true,
    params: [
      {
        id: "approvers",
        label: "Approvers (role:responder, role:admin, slack:U123, telegram:42, email)",
        type: "picker",
        multiple: true,
        picker_create_new: true,
        options: {},
        default: [...DEFAULT_APPROVERS],
      },
      {
        id: "quorum",
        label: "Approvals needed",
        type: "input",
        default: "1",
        integer: { min: 1, max: MAX_APPROVAL_QUORUM },
      },
      {
        id: "allow_self_approval",
        label: "The publisher may approve their own event",
        type: "checkbox",
        default: false,
      },
      {
        id: "timeout_seconds",
        label: "Timeout (seconds)",
        type: "input",
        default: String(DEFAULT_APPROVAL_TIMEOUT_SECONDS),
        integer: { min: 1, max: MAX_APPROVAL_TIMEOUT_SECONDS },
      },
      {
        id: "on_timeout",
        label: "At the timeout",
        type: "select",
        options: { deny: "Deny (fail closed)", allow: "Allow (fail open)" },
        strict_options: true,
        default: "deny",
      },
      {
        id: "reminder_seconds",
        label: "Reminder after (seconds, 0 for none)",
        type: "input",
        default: String(DEFAULT_APPROVAL_REMINDER_SECONDS),
        integer: { min: 0, max: MAX_APPROVAL_TIMEOUT_SECONDS },
      },
      {
        id: "escalation_seconds",
        label: "Escalate after (seconds, 0 for never)",
        type: "input",
        default: "0",
        integer: { min: 0, max: MAX_APPROVAL_TIMEOUT_SECONDS },
      },
      {
        id: "escalate_to",
        label: "Escalate to (chat ids, identities or role:admin)",
        type: "picker",
        multiple: true,
        picker_create_new: true,
        options: {},
        default: [],
      },
      {
        id: "reason",
        label: "Reason shown to approvers",
        type: "input",
        default: "Publication of {{ Event.info }} needs approval",
        jinja_supported: true,
      },
    ],
  },
  exec: execRequireApproval,
};

async function execRequireApproval(context: ModuleContext): Promise<boolean> {
  if (getTrigger(context.workflow.trigger)?.descriptor.blocking !== true) {
    context.errors.push(
      `Cannot require approval on trigger "${context.workflow.trigger}": it is not blocking`,
    );
    return false;
  }
  const data = context.roaming.getData();
  const event = approvalEventOf(data);
  if (event.uuid === "") {
    context.errors.push("Cannot require approval: the data has no Event.uuid");
    return false;
  }
  const policy = policyOf(context.params);
  const fingerprint = eventFingerprint(data);
  const gate = context.services.approvals ?? null;
  context.observe("event_uuid", event.uuid);
  context.observe("fingerprint", fingerprint);

  // The same record live and dry (the dry flag aside), so a dry replay diffs clean.
  const action = {
    kind: "approval",
    summary: `Ask ${policy.quorum} of ${
      policy.approvers.join(", ")
    } to approve event ${event.uuid}`,
    details: { event_uuid: event.uuid, quorum: policy.quorum, approvers: policy.approvers },
  };
  if (context.dryRun) {
    const granted = gate ? await gate.peekGrant({ event_uuid: event.uuid, fingerprint }) : null;
    if (granted !== null) {
      context.observe(APPROVAL_GRANT_KEY, granted);
      return true;
    }
    context.record({ ...action, dry: true });
    context.observe(PENDING_APPROVAL_KEY, "dry-run");
    context.errors.push("Publication would await approval (dry run)");
    return false;
  }
  if (gate === null) {
    context.errors.push(
      "Cannot require approval: the approval gate is off (it runs inside the Flowgate server)",
    );
    return false;
  }
  const granted = await gate.consumeGrant({ event_uuid: event.uuid, fingerprint });
  if (granted !== null) {
    context.observe(APPROVAL_GRANT_KEY, granted);
    return true;
  }
  const publisher = publisherOf(data);
  const { id, created } = await gate.requestApproval({
    workflow: context.workflow.name,
    node_id: context.node.id,
    event,
    fingerprint,
    ...(publisher ? { publisher } : {}),
    reason: String(context.params.reason ?? ""),
    policy,
    data,
  });
  context.record({ ...action, dry: false });
  context.observe(PENDING_APPROVAL_KEY, id);
  context.observe("approval_created", created);
  context.errors.push(awaitingApprovalMessage(id));
  return false;
}

/** The policy a node's params describe, with defaults and bounds applied. */
export function policyOf(params: Record<string, unknown>): ApprovalPolicy {
  const approvers = stringList(params.approvers);
  const onTimeout: TimeoutOutcome = params.on_timeout === "allow" ? "allow" : "deny";
  return {
    approvers: approvers.length > 0 ? approvers : [...DEFAULT_APPROVERS],
    quorum: bounded(params.quorum, 1, 1, MAX_APPROVAL_QUORUM),
    allow_self_approval: params.allow_self_approval === true ||
      params.allow_self_approval === "1" || params.allow_self_approval === 1,
    timeout_seconds: bounded(
      params.timeout_seconds,
      DEFAULT_APPROVAL_TIMEOUT_SECONDS,
      1,
      MAX_APPROVAL_TIMEOUT_SECONDS,
    ),
    reminder_seconds: bounded(params.reminder_seconds, 0, 0, MAX_APPROVAL_TIMEOUT_SECONDS),
    escalation_seconds: bounded(params.escalation_seconds, 0, 0, MAX_APPROVAL_TIMEOUT_SECONDS),
    escalate_to: stringList(params.escalate_to),
    on_timeout: onTimeout,
  };
}

/** The event summary an approval keeps (uuid, id, info, creator org, TLP tags, size). */
export function approvalEventOf(data: JsonObject): ApprovalEvent {
  const event = eventOf(data);
  const tags = Array.isArray(event.Tag) ? event.Tag : [];
  const tlp = tags
    .map((tag) => isObject(tag) ? String(tag.name ?? "").toLowerCase() : "")
    .filter((name) => name.startsWith("tlp:"));
  const orgc = isObject(event.Orgc) ? event.Orgc.name : undefined;
  const attributes = Array.isArray(event.Attribute) ? event.Attribute.length : 0;
  const objects = Array.isArray(event.Object) ? event.Object : [];
  const objectAttributes = objects.reduce<number>(
    (sum, object) =>
      sum + (isObject(object) && Array.isArray(object.Attribute) ? object.Attribute.length : 0),
    0,
  );
  return {
    uuid: typeof event.uuid === "string" ? event.uuid : "",
    id: event.id === undefined || event.id === null ? "" : String(event.id),
    info: typeof event.info === "string" ? event.info : "",
    ...(typeof orgc === "string" ? { orgc } : {}),
    tlp,
    attribute_count: attributes + objectAttributes,
  };
}

/** The MISP user behind the event: its creator's email, when MISP sent it. */
function publisherOf(data: JsonObject): string | undefined {
  const email = eventOf(data).event_creator_email;
  return typeof email === "string" && email !== "" ? email.toLowerCase() : undefined;
}

function bounded(value: unknown, fallback: number, min: number, max: number): number {
  const number = typeof value === "number" ? value : Number(String(value ?? "").trim());
  if (String(value ?? "").trim() === "" || !Number.isFinite(number)) return fallback;
  return Math.min(max, Math.max(min, Math.floor(number)));
}
