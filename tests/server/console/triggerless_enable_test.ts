import assert from "node:assert/strict";
import { getWorkflow } from "../../../store/workflows.ts";
import { startTestApp } from "../test_app.ts";
import { signedIn } from "./console_client.ts";

const CURATION = new URL(
  "../../fixtures/workflows/misp-blueprints/blueprint_curation---allow-curation-process.json",
  import.meta.url,
);

Deno.test("the console enables a trigger-less workflow with the trigger chosen on its form", async (t) => {
  await using test = await startTestApp();
  const created = await test.admin("/api/workflows", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: await Deno.readTextFile(CURATION),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const id = (await created.json()).workflow.id as string;
  const client = await signedIn(test);

  await t.step("the list and the workflow page offer a trigger choice to enable it", async () => {
    const list = (await client.page("/workflows")).html;
    assert.match(list, /No trigger yet \(choose a trigger to enable\)/);
    assert.match(list, /<select name="trigger" required aria-label="Trigger for [^"]+">/);
    const page = (await client.page(`/workflows/${id}`)).html;
    assert.match(page, /none yet: choose a trigger to enable it/);
    assert.match(page, /<option value="event-publish">event-publish<\/option>/);
  });
  await t.step("enabling without a trigger: 409 with the reason", async () => {
    const response = await client.post(`/workflows/${id}/enable`, { back: "workflow" });
    assert.equal(response.status, 409);
    assert.match(await response.text(), /has no trigger yet: choose a trigger to enable it/);
    assert.equal((await getWorkflow(test.kv, id))?.workflow.enabled, false);
  });
  await t.step("an unknown trigger: 400", async () => {
    const response = await client.post(`/workflows/${id}/enable`, { trigger: "nope" });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /Unknown trigger &quot;nope&quot;/);
  });
  await t.step("with a trigger: enabled on it, and the choice is gone", async () => {
    const response = await client.post(`/workflows/${id}/enable`, {
      back: "workflow",
      trigger: "event-publish",
    });
    assert.equal(response.status, 303);
    const stored = await getWorkflow(test.kv, id);
    assert.equal(stored?.workflow.trigger, "event-publish");
    assert.equal(stored?.workflow.enabled, true);
    assert.equal(stored?.updated_by, "console:admin");
    const page = (await client.page(`/workflows/${id}`)).html;
    assert.doesNotMatch(page, /<select name="trigger"/);
  });
});
