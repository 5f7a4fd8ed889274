import assert from "node:assert/strict";
import { blockedRunCard } from "../../bot/announce.ts";
import { slackMessage } from "../../bot/slack_render.ts";
import { telegramMessage } from "../../bot/telegram_render.ts";
import { getRun, listRuns } from "../../store/runs.ts";
import { startApprovalSetup } from "../fixtures/approval_setup.ts";

Deno.test("the card of a parked publication shows what it sends out, values only where cleared", async (t) => {
  await using setup = await startApprovalSetup();
  assert.equal((await setup.publish()).status, 403);
  const [summary] = (await listRuns(setup.test.kv, { outcome: "pending-approval" })).items;
  const run = (await getRun(setup.test.kv, summary!.id))!;
  const approval = await setup.service.approvalOfRun(run.id);
  assert.ok(approval?.changes);

  await t.step("a chat cleared for tlp:amber sees counts and values", () => {
    const card = blockedRunCard(run, { marking: { tlp: "amber" }, cleared: true }, { approval });
    const telegram = telegramMessage(card).text;
    assert.match(
      telegram,
      /<pre>What this publication sends out:\nFirst publication: everything below goes out\n\+2 attributes added\n {2}\+ Antivirus detection\/comment Value to test\n/,
    );
    assert.match(telegram, /\+2 tags added\n {2}\+ misp-galaxy:botnet="Asprox"\n {2}\+ tlp:amber/);
    const slack = JSON.stringify(slackMessage(card).blocks);
    assert.match(slack, /```What this publication sends out:/);
  });

  await t.step("a chat not cleared sees the counts only", () => {
    const card = blockedRunCard(run, { marking: { tlp: "amber" }, cleared: false }, { approval });
    const text = telegramMessage(card).text;
    assert.match(text, /\+2 attributes added\n\+2 tags added\n\(values withheld/);
    assert.ok(!text.includes("Value to test"));
    assert.ok(!text.includes("Asprox"));
  });
});
