import assert from "node:assert/strict";
import { importRedBlueprint, mispQuery, realEvent, startTestApp } from "./test_app.ts";

async function seedRuns(test: Awaited<ReturnType<typeof startTestApp>>) {
  const workflowId = await importRedBlueprint(test);
  const red = await realEvent({ tlpRed: true });
  const clean = await realEvent();
  for (const data of [red, clean, clean]) {
    await mispQuery(test, "flowgate_enrichment_before_query", data);
  }
  return workflowId;
}

Deno.test("GET /api/runs lists newest first with filters and cursors", async (t) => {
  await using test = await startTestApp();
  const workflowId = await seedRuns(test);
  await t.step("all runs, summaries without trace", async () => {
    const body = await (await test.admin("/api/runs")).json();
    assert.equal(body.items.length, 3);
    assert.equal(body.items[0].trace, undefined);
    assert.equal(body.items[2].outcome, "blocked");
  });
  await t.step("filters: outcome, workflow (id or name), trigger, event", async () => {
    const blocked = await (await test.admin("/api/runs?outcome=blocked")).json();
    assert.equal(blocked.items.length, 1);
    const byName = await (await test.admin("/api/runs?workflow=pap-red-and-tlp-red-blocking"))
      .json();
    const byId = await (await test.admin(`/api/runs?workflow=${workflowId}`)).json();
    assert.equal(byId.items.length, 3);
    assert.equal(byName.items.length, 3);
    const trigger = await (await test.admin("/api/runs?trigger=event-publish")).json();
    assert.equal(trigger.items.length, 0);
    const event = await (await test.admin("/api/runs?event=5c6ab833-676c-42f3-95d2-034f0a00020f"))
      .json();
    assert.equal(event.items.length, 3);
    const eventId = event.items[0].event.id;
    assert.match(eventId, /^\d+$/);
    const byEventId = await (await test.admin(`/api/runs?event=${eventId}`)).json();
    assert.deepEqual(
      byEventId.items.map((run: { id: string }) => run.id),
      event.items.map((run: { id: string }) => run.id),
    );
    assert.equal((await (await test.admin("/api/runs?event=999999")).json()).items.length, 0);
  });
  await t.step("cursor pages", async () => {
    const first = await (await test.admin("/api/runs?limit=2")).json();
    assert.equal(first.items.length, 2);
    assert.equal(typeof first.cursor, "string");
    const second = await (await test.admin(`/api/runs?limit=2&cursor=${first.cursor}`)).json();
    assert.equal(second.items.length, 1);
    assert.equal(second.cursor, undefined);
  });
  await t.step("bad filters: 400", async () => {
    assert.equal((await test.admin("/api/runs?outcome=meh")).status, 400);
    assert.equal((await test.admin("/api/runs?since=yesterday-ish")).status, 400);
    assert.equal((await test.admin("/api/runs?limit=0")).status, 400);
  });
});

Deno.test("GET /api/runs/:id gives the trace, and the exact input on request", async () => {
  await using test = await startTestApp();
  await seedRuns(test);
  const [blocked] = (await (await test.admin("/api/runs?outcome=blocked")).json()).items;
  const run = await (await test.admin(`/api/runs/${blocked.id}?input=1`)).json();
  assert.deepEqual(run.trace.map((entry: { module: string }) => entry.module), [
    "enrichment-before-query",
    "tag-if",
    "stop-execution",
  ]);
  assert.deepEqual(run.input, await realEvent({ tlpRed: true }));
  assert.equal((await test.admin("/api/runs/01HZZZZZZZZZZZZZZZZZZZZZZZ")).status, 404);
});

Deno.test("POST /api/runs/:id/replay re-runs the stored input against the original or current version", async (t) => {
  await using test = await startTestApp();
  const workflowId = await seedRuns(test);
  const [blocked] = (await (await test.admin("/api/runs?outcome=blocked")).json()).items;

  await t.step("original, dry by default", async () => {
    const response = await test.admin(`/api/runs/${blocked.id}/replay`, { method: "POST" });
    assert.equal(response.status, 201);
    const run = await response.json();
    assert.equal(run.replay_of, blocked.id);
    assert.equal(run.mode, "original");
    assert.equal(run.dry_run, true);
    assert.equal(run.outcome, "blocked");
    assert.equal(run.actor.kind, "replay");
  });

  await t.step("current version after disabling the IF's red tags: allowed", async () => {
    const yaml = await (await test.admin(`/api/workflows/${workflowId}?format=yaml`)).text();
    const replaced = await test.admin(`/api/workflows/${workflowId}`, {
      method: "PUT",
      headers: { "Content-Type": "application/yaml" },
      body: yaml.replace("- tlp:red", "- tlp:black").replace("- PAP:RED", "- PAP:BLACK"),
    });
    assert.equal(replaced.status, 200, await replaced.clone().text());
    const response = await test.admin(`/api/runs/${blocked.id}/replay`, {
      method: "POST",
      body: JSON.stringify({ mode: "current", dry: false }),
    });
    const run = await response.json();
    assert.equal(run.mode, "current");
    assert.equal(run.dry_run, false);
    assert.equal(run.workflow_version, 2);
    assert.equal(run.outcome, "success");
  });

  await t.step("bad mode: 400; unknown run: 404", async () => {
    const bad = await test.admin(`/api/runs/${blocked.id}/replay`, {
      method: "POST",
      body: JSON.stringify({ mode: "future" }),
    });
    assert.equal(bad.status, 400);
    const missing = await test.admin("/api/runs/01HZZZZZZZZZZZZZZZZZZZZZZZ/replay", {
      method: "POST",
    });
    assert.equal(missing.status, 404);
  });

  await t.step("replays are audited", async () => {
    const audit = await (await test.admin("/api/audit")).json();
    const replays = audit.items.filter((entry: { action: string }) =>
      entry.action === "run.replay"
    );
    assert.equal(replays.length, 2);
  });
});
