import assert from "node:assert/strict";
import { cardToPlainText } from "../../../bot/cards.ts";
import { runCommand } from "../../../bot/commands.ts";
import type { ChatCore, ChatIdentity } from "../../../bot/core.ts";
import { getWorkflow, listEnabledWorkflows } from "../../../store/workflows.ts";
import { startTestApp } from "../../server/test_app.ts";
import { openCommandRoom, ROOM, USERS } from "../command_room.ts";

const CURATION = new URL(
  "../../fixtures/workflows/misp-blueprints/blueprint_curation---allow-curation-process.json",
  import.meta.url,
);

const ADMIN: ChatIdentity = { platform: "slack", userId: USERS.admin, chatId: ROOM, direct: false };

async function say(core: ChatCore, text: string): Promise<string> {
  return cardToPlainText(await runCommand(core, ADMIN, text));
}

Deno.test("enable <workflow> <trigger> enables a trigger-less blueprint on that trigger", async (t) => {
  await using test = await startTestApp();
  const response = await test.admin("/api/workflows", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: await Deno.readTextFile(CURATION),
  });
  assert.equal(response.status, 201, await response.clone().text());
  const name = (await response.json()).workflow.name as string;
  const core = await openCommandRoom(test);

  await t.step("list says it has no trigger yet", async () => {
    assert.match(await say(core, "list"), new RegExp(`${name} · no trigger yet .* · disabled`));
  });
  await t.step("without a trigger: a reply saying how to give one, nothing changes", async () => {
    const reply = await say(core, `enable ${name}`);
    assert.match(
      reply,
      new RegExp(
        `Workflow "${name}" has no trigger yet: choose a trigger to enable it with "enable ${name} <trigger>"`,
      ),
    );
    assert.equal((await getWorkflow(test.kv, name))?.workflow.enabled, false);
  });
  await t.step("an unknown trigger, or too many words: refused", async () => {
    assert.match(await say(core, `enable ${name} event-publsh`), /Unknown trigger "event-publsh"/);
    assert.match(await say(core, `enable ${name} event-publish now`), /Usage: enable <workflow>/);
  });
  await t.step("with a trigger: enabled on it and run for it", async () => {
    assert.match(
      await say(core, `enable ${name} event-publish`),
      new RegExp(`Workflow "${name}" enabled on trigger event-publish by slack:${USERS.admin}`),
    );
    const stored = await getWorkflow(test.kv, name);
    assert.equal(stored?.workflow.trigger, "event-publish");
    assert.equal(stored?.workflow.enabled, true);
    const enabled = await listEnabledWorkflows(test.kv, "event-publish");
    assert.deepEqual(enabled.map((workflow) => workflow.name), [name]);
  });
  await t.step("a second, different trigger is refused", async () => {
    assert.match(await say(core, `disable ${name}`), /disabled by/);
    assert.match(
      await say(core, `enable ${name} enrichment-before-query`),
      /already has trigger "event-publish"/,
    );
    assert.match(await say(core, `enable ${name}`), /enabled by/);
  });
});
