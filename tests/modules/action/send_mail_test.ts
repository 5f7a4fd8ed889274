import assert from "node:assert/strict";
import { sha256Hex } from "../../../engine/digest.ts";
import { sendMail } from "../../../modules/action/send_mail.ts";
import { sendLogMail } from "../../../modules/action/send_log_mail.ts";
import { createSmtpTransport } from "../../../modules/action/lib/mail_transport.ts";
import { createMispClient } from "../../../modules/action/lib/misp_client.ts";
import { IntegrationMissingError, TransientError } from "../../../engine/module_errors.ts";
import { startSmtpServer } from "../../fakes/smtp_server.ts";
import { startFakeMisp } from "../../fakes/misp_server.ts";
import { createOutboundContext, sightingData } from "./outbound_test_context.ts";

const SITE_ADMIN = { id: "1", name: "admin", perm_site_admin: true, perm_admin: true };
const ORG_ADMIN = { id: "2", name: "Org Admin", perm_site_admin: false, perm_admin: true };
const USER = { id: "3", name: "User", perm_site_admin: false, perm_admin: false };

function user(
  id: string,
  email: string,
  orgId: string,
  role: Record<string, unknown>,
  disabled = false,
) {
  return {
    User: { id, email, org_id: orgId, role_id: role.id, disabled },
    Role: role,
    Organisation: { id: orgId, name: `org${orgId}` },
  };
}

const USERS = [
  user("1", "admin@example.org", "1", SITE_ADMIN),
  user("2", "orgadmin@example.org", "2", ORG_ADMIN),
  user("3", "analyst@example.org", "2", USER),
  user("4", "gone@example.org", "1", SITE_ADMIN, true),
  user("5", "other-orgadmin@example.org", "3", ORG_ADMIN),
];

Deno.test("send-mail mails every site admin with the rendered subject and escaped HTML body", async () => {
  await using smtp = await startSmtpServer();
  await using misp = await startFakeMisp({ users: USERS });
  const data = await sightingData();
  (data.Event as Record<string, unknown>).info = '<script>alert("x")</script> & co';
  const { context, records } = createOutboundContext({
    module: sendMail,
    data,
    params: {
      recipients: ["All admins", "extra@example.org"],
      mail_template_subject: "[MISP] {{ Event.info }}",
      mail_template_body:
        "<b>Event</b> {{ Event.info }}\nAttributes: {{ Event.Attribute | length }}",
    },
    services: {
      mail: createSmtpTransport(`smtp://127.0.0.1:${smtp.port}`),
      misp: createMispClient({ url: misp.url, apiKey: misp.apiKey, tlsVerify: true, retries: 0 }),
    },
  });
  assert.equal(await sendMail.exec(context), true);
  assert.deepEqual(context.errors, []);
  assert.deepEqual(smtp.messages.map((mail) => mail.to), [["admin@example.org"], [
    "extra@example.org",
  ]]);
  const [mail] = smtp.messages;
  assert.equal(mail?.subject, '[MISP] <script>alert("x")</script> & co');
  assert.equal(
    mail?.html,
    '<div style="white-space: pre-wrap"><b>Event</b> &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co\nAttributes: 2</div>',
  );
  assert.equal(mail?.text, 'Event <script>alert("x")</script> & co\nAttributes: 2');
  assert.equal(misp.requests.at(-1)?.path, "/admin/users/index");
  assert.equal(records[0]?.kind, "mail");
  assert.equal(records[0]?.dry, false);
  assert.deepEqual(records[0]?.details?.recipients, ["admin@example.org", "extra@example.org"]);
  assert.equal(records[0]?.body_digest, await sha256Hex(mail?.html ?? ""));
});

Deno.test("send-mail resolves All accounts without disabled users", async () => {
  await using smtp = await startSmtpServer();
  await using misp = await startFakeMisp({ users: USERS });
  const { context } = createOutboundContext({
    module: sendMail,
    data: { Event: { info: "x" } },
    params: { recipients: ["All accounts"], mail_template_subject: "s", mail_template_body: "b" },
    services: {
      mail: createSmtpTransport(`smtp://127.0.0.1:${smtp.port}`),
      misp: createMispClient({ url: misp.url, apiKey: misp.apiKey, tlsVerify: true, retries: 0 }),
    },
  });
  assert.equal(await sendMail.exec(context), true);
  assert.deepEqual(smtp.messages.map((mail) => mail.to[0]).sort(), [
    "admin@example.org",
    "analyst@example.org",
    "orgadmin@example.org",
    "other-orgadmin@example.org",
  ]);
});

Deno.test("send-log-mail resolves Org admins from Log.user_id", async (t) => {
  await using misp = await startFakeMisp({ users: USERS });
  const client = createMispClient({
    url: misp.url,
    apiKey: misp.apiKey,
    tlsVerify: true,
    retries: 0,
  });
  const dryRecipients = async (log: Record<string, unknown>) => {
    const { context, records } = createOutboundContext({
      module: sendLogMail,
      data: { Log: log },
      trigger: "log-after-save",
      dryRun: true,
      params: { recipients: ["Org admins"], mail_template_subject: "Log {{ Log.action }}" },
      services: { misp: client },
    });
    assert.equal(await sendLogMail.exec(context), true);
    return records[0]?.details?.recipients;
  };
  await t.step("admins of the log user's org", async () => {
    assert.deepEqual(await dryRecipients({ user_id: "3", action: "login" }), [
      "orgadmin@example.org",
    ]);
  });
  await t.step("nobody when the log user is unknown", async () => {
    assert.deepEqual(await dryRecipients({ user_id: "0", action: "login" }), []);
  });
});

Deno.test("send-mail fails with MISP's messages and clear integration errors", async (t) => {
  const exec = async (params: Record<string, unknown>) => {
    const { context } = createOutboundContext({ module: sendMail, data: { Event: {} }, params });
    return { result: await sendMail.exec(context), errors: context.errors };
  };
  await t.step("no recipient", async () => {
    assert.deepEqual(await exec({ recipients: [], mail_template_subject: "s" }), {
      result: false,
      errors: ["No recipient set."],
    });
  });
  await t.step("empty subject", async () => {
    assert.deepEqual(await exec({ recipients: ["a@example.org"], mail_template_subject: "" }), {
      result: false,
      errors: ["The mail template is empty."],
    });
  });
  await t.step("All admins without MISP", async () => {
    assert.deepEqual(await exec({ mail_template_subject: "s" }), {
      result: false,
      errors: ['This module needs MISP_URL and MISP_API_KEY (to resolve "All admins") to be set'],
    });
  });
  await t.step("no SMTP", async () => {
    const { context } = createOutboundContext({
      module: sendMail,
      data: { Event: {} },
      params: { recipients: ["a@example.org"], mail_template_subject: "s" },
    });
    await assert.rejects(async () => await sendMail.exec(context), IntegrationMissingError);
  });
  await t.step("an unreachable SMTP server before any mail is transient", async () => {
    const smtp = await startSmtpServer();
    await smtp.close();
    const { context } = createOutboundContext({
      module: sendMail,
      data: { Event: {} },
      params: { recipients: ["a@example.org", "b@example.org"], mail_template_subject: "s" },
      services: {
        mail: createSmtpTransport(`smtp://127.0.0.1:${smtp.port}`, { timeoutMs: 2_000 }),
      },
    });
    await assert.rejects(async () => await sendMail.exec(context), TransientError);
  });
});

Deno.test("send-mail in a dry run records recipients and sends nothing", async () => {
  await using smtp = await startSmtpServer();
  const { context, records } = createOutboundContext({
    module: sendMail,
    data: { Event: { info: "x" } },
    dryRun: true,
    params: {
      recipients: ["soc@example.org", "not an address"],
      mail_template_subject: "Hi {{ Event.info }}",
    },
    services: { mail: createSmtpTransport(`smtp://127.0.0.1:${smtp.port}`) },
  });
  assert.equal(await sendMail.exec(context), true);
  assert.equal(smtp.messages.length, 0);
  assert.equal(records[0]?.dry, true);
  assert.deepEqual(records[0]?.details, {
    recipients: ["soc@example.org"],
    subject: "Hi x",
    ignored: ["not an address"],
  });
});

Deno.test("send-mail in a dry run without MISP keeps recipient groups unresolved", async () => {
  const { context, records } = createOutboundContext({
    module: sendMail,
    data: { Event: { info: "x" } },
    dryRun: true,
    params: { recipients: ["All admins", "soc@example.org"], mail_template_subject: "s" },
  });
  assert.equal(await sendMail.exec(context), true);
  assert.deepEqual(context.errors, []);
  assert.deepEqual(records[0]?.details, {
    recipients: ["soc@example.org"],
    unresolved_groups: ["All admins"],
    subject: "s",
  });
  assert.match(records[0]?.summary ?? "", /"All admins" \(resolved through MISP when run live\)/);
});
