import assert from "node:assert/strict";
import { OUTBOUND_ACTIONS } from "../../../modules/action/outbound_actions.ts";

Deno.test("OUTBOUND_ACTIONS lists MISP's outbound modules once, with MISP's ids and flags", () => {
  const byId = new Map(OUTBOUND_ACTIONS.map((module) => [module.descriptor.id, module.descriptor]));
  assert.equal(byId.size, OUTBOUND_ACTIONS.length);
  assert.deepEqual([...byId.keys()].sort(), [
    "flowintel-create-case",
    "mattermost",
    "ms-teams-webhook",
    "push-zmq",
    "send-log-mail",
    "send-mail",
    "slack",
    "splunk-hec-export",
    "tag_cve_from_enrichment",
    "telegram-send-alert",
    "webhook",
  ]);
  for (const descriptor of byId.values()) {
    assert.equal(descriptor.module_type, "action");
    assert.equal(descriptor.blocking, false);
    assert.equal(descriptor.inputs, 1);
  }
  assert.equal(byId.get("splunk-hec-export")?.outputs, 0);
  assert.equal(byId.get("splunk-hec-export")?.expect_misp_core_format, true);
  assert.equal(byId.get("slack")?.support_filters, true);
  assert.equal(byId.get("webhook")?.enabled_by_default, true);
  assert.equal(byId.get("push-zmq")?.enabled_by_default, true);
});

Deno.test("OUTBOUND_ACTIONS marks credentials secret and escapes templated params for their target", () => {
  const param = (module: string, id: string) =>
    OUTBOUND_ACTIONS.find((item) => item.descriptor.id === module)?.descriptor.params.find((p) =>
      p.id === id
    );
  for (
    const [module, id] of [
      ["telegram-send-alert", "bot_token"],
      ["splunk-hec-export", "hec_token"],
      ["slack", "slack_bot_token"],
      ["mattermost", "bot_access_token"],
      ["flowintel-create-case", "apikey"],
    ]
  ) {
    assert.equal(param(module!, id!)?.secret, true, `${module}.${id}`);
  }
  assert.equal(param("webhook", "payload")?.escape, "json");
  assert.equal(param("send-mail", "mail_template_body")?.escape, "html");
  assert.equal(param("telegram-send-alert", "message_body_template")?.escape, "telegram-html");
  assert.equal(param("slack", "message_template")?.escape, "slack");
  assert.equal(param("webhook", "url")?.jinja_supported, true);
  assert.deepEqual(param("send-mail", "recipients")?.default, ["All admins"]);
});
