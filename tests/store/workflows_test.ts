import assert from "node:assert/strict";
import { ConflictError, NotFoundError } from "../../store/errors.ts";
import {
  createWorkflow,
  deleteWorkflow,
  getWorkflow,
  getWorkflowVersion,
  listEnabledWorkflows,
  listWorkflows,
  listWorkflowVersions,
  reenableExpiredWorkflows,
  replaceWorkflow,
  setWorkflowEnabled,
} from "../../store/workflows.ts";
import { KEY_WORKFLOWS_REVISION } from "../../store/keys.ts";
import { waitFor } from "../fixtures/wait_for.ts";
import { makeWorkflow } from "./fixtures.ts";

const SAVE = { actor: "api:admin", sourceFormat: "yaml" } as const;

Deno.test("createWorkflow() stores version 1 and getWorkflow() finds it by id and name", async () => {
  using kv = await Deno.openKv(":memory:");
  const stored = await createWorkflow(kv, makeWorkflow(), SAVE);
  assert.equal(stored.version, 1);
  assert.equal(stored.updated_by, "api:admin");
  assert.deepEqual(await getWorkflow(kv, stored.id), stored);
  assert.deepEqual(await getWorkflow(kv, "block-red"), stored);
  assert.equal(await getWorkflow(kv, "missing"), null);
  const versions = await listWorkflowVersions(kv, stored.id);
  assert.equal(versions.length, 1);
  assert.equal(versions[0]?.change, "created");
});

Deno.test("createWorkflow() refuses a taken name with ConflictError", async () => {
  using kv = await Deno.openKv(":memory:");
  await createWorkflow(kv, makeWorkflow(), SAVE);
  await assert.rejects(() => createWorkflow(kv, makeWorkflow(), SAVE), ConflictError);
  assert.equal((await listWorkflows(kv)).length, 1);
});

Deno.test("createWorkflow() refuses a workflow over the value limit with a clear RangeError", async () => {
  using kv = await Deno.openKv(":memory:");
  const big = makeWorkflow({ description: "x".repeat(70_000) });
  await assert.rejects(() => createWorkflow(kv, big, SAVE), (error: Error) => {
    assert.ok(error instanceof RangeError);
    assert.match(
      error.message,
      /^Cannot save workflow "block-red": it takes \d+ bytes stored, over/,
    );
    return true;
  });
  assert.equal(await getWorkflow(kv, "block-red"), null);
});

Deno.test("replaceWorkflow() keeps every version with a description of the change", async (t) => {
  using kv = await Deno.openKv(":memory:");
  const first = await createWorkflow(kv, makeWorkflow(), SAVE);
  const base = makeWorkflow();

  await t.step("params changed", async () => {
    const nodes = base.nodes.map((node) =>
      node.id === "tlp" ? { ...node, params: { ...node.params, tags: ["tlp:amber"] } } : node
    );
    const saved = await replaceWorkflow(kv, first.id, { ...base, nodes }, {
      ...SAVE,
      actor: "slack:U1",
    });
    assert.equal(saved.version, 2);
    const version = await getWorkflowVersion(kv, first.id, 2);
    assert.equal(version?.change, 'params of node "tlp" changed');
    assert.equal(version?.saved_by, "slack:U1");
  });

  await t.step("node added and renamed", async () => {
    const current = (await getWorkflow(kv, first.id))!;
    const nodes = [...current.workflow.nodes, {
      id: "notify",
      module: "webhook",
      kind: "action" as const,
      params: {},
      next: [],
    }];
    const saved = await replaceWorkflow(kv, first.id, {
      ...current.workflow,
      name: "block-red-2",
      nodes,
    }, SAVE);
    assert.equal(saved.name, "block-red-2");
    assert.equal(
      (await getWorkflowVersion(kv, first.id, 3))?.change,
      'renamed from "block-red" to "block-red-2"; node "notify" added',
    );
    assert.equal((await getWorkflow(kv, "block-red-2"))?.id, first.id);
    assert.equal(await getWorkflow(kv, "block-red"), null);
  });

  await t.step("history lists versions oldest first", async () => {
    const versions = await listWorkflowVersions(kv, first.id);
    assert.deepEqual(versions.map((v) => v.version), [1, 2, 3]);
    assert.equal(versions[0]?.workflow.nodes.length, 3);
  });
});

Deno.test("replaceWorkflow() detects concurrent edits", async (t) => {
  await t.step("two replaces from the same version: one wins, one gets ConflictError", async () => {
    using kv = await Deno.openKv(":memory:");
    const stored = await createWorkflow(kv, makeWorkflow(), SAVE);
    const results = await Promise.allSettled([
      replaceWorkflow(kv, stored.id, makeWorkflow({ order: 1 }), SAVE),
      replaceWorkflow(kv, stored.id, makeWorkflow({ order: 2 }), SAVE),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.ok((lost[0] as PromiseRejectedResult).reason instanceof ConflictError);
    assert.equal((await getWorkflow(kv, stored.id))?.version, 2);
    assert.equal((await listWorkflowVersions(kv, stored.id)).length, 2);
  });

  await t.step("a stale expectedVersion is refused", async () => {
    using kv = await Deno.openKv(":memory:");
    const stored = await createWorkflow(kv, makeWorkflow(), SAVE);
    await replaceWorkflow(kv, stored.id, makeWorkflow({ order: 1 }), {
      ...SAVE,
      expectedVersion: 1,
    });
    await assert.rejects(
      () =>
        replaceWorkflow(kv, stored.id, makeWorkflow({ order: 2 }), { ...SAVE, expectedVersion: 1 }),
      /version 1 is stale, the current version is 2/,
    );
  });

  await t.step("renaming onto a taken name is a conflict", async () => {
    using kv = await Deno.openKv(":memory:");
    await createWorkflow(kv, makeWorkflow({ name: "a" }), SAVE);
    const b = await createWorkflow(kv, makeWorkflow({ name: "b" }), SAVE);
    await assert.rejects(
      () => replaceWorkflow(kv, b.id, makeWorkflow({ name: "a" }), SAVE),
      /the name "a" is taken/,
    );
  });

  await t.step("replacing a missing workflow is NotFoundError", async () => {
    using kv = await Deno.openKv(":memory:");
    await assert.rejects(() => replaceWorkflow(kv, "nope", makeWorkflow(), SAVE), NotFoundError);
  });
});

Deno.test("listWorkflows() and listEnabledWorkflows() follow trigger and order", async () => {
  using kv = await Deno.openKv(":memory:");
  await createWorkflow(kv, makeWorkflow({ name: "c", order: 5 }), SAVE);
  await createWorkflow(kv, makeWorkflow({ name: "a", order: 10 }), SAVE);
  await createWorkflow(kv, makeWorkflow({ name: "b", order: -1 }), SAVE);
  await createWorkflow(kv, makeWorkflow({ name: "x", trigger: "attribute-after-save" }), SAVE);
  await createWorkflow(kv, makeWorkflow({ name: "off", order: 0, enabled: false }), SAVE);
  assert.deepEqual((await listWorkflows(kv)).map((w) => w.name), ["x", "b", "off", "c", "a"]);
  assert.deepEqual(
    (await listWorkflows(kv, { trigger: "event-publish" })).map((w) => w.name),
    ["b", "off", "c", "a"],
  );
  assert.deepEqual(
    (await listEnabledWorkflows(kv, "event-publish")).map((w) => w.name),
    ["b", "c", "a"],
  );
  assert.deepEqual(await listEnabledWorkflows(kv, "user-login"), []);
});

Deno.test("listEnabledWorkflows() sees every write through the revision counter", async () => {
  using kv = await Deno.openKv(":memory:");
  const a = await createWorkflow(kv, makeWorkflow({ name: "a", order: 1 }), SAVE);
  assert.deepEqual((await listEnabledWorkflows(kv, "event-publish")).map((w) => w.name), ["a"]);
  const b = await createWorkflow(kv, makeWorkflow({ name: "b", order: 0 }), SAVE);
  assert.deepEqual((await listEnabledWorkflows(kv, "event-publish")).map((w) => w.name), [
    "b",
    "a",
  ]);
  await replaceWorkflow(kv, a.id, makeWorkflow({ name: "a", order: -5 }), SAVE);
  assert.deepEqual((await listEnabledWorkflows(kv, "event-publish")).map((w) => w.name), [
    "a",
    "b",
  ]);
  await setWorkflowEnabled(kv, b.id, false, { actor: "api:admin" });
  assert.deepEqual((await listEnabledWorkflows(kv, "event-publish")).map((w) => w.name), ["a"]);
  await deleteWorkflow(kv, a.id, { actor: "api:admin" });
  assert.deepEqual(await listEnabledWorkflows(kv, "event-publish"), []);
});

Deno.test("listEnabledWorkflows() sees a write made through another KV handle", async () => {
  const dir = await Deno.makeTempDir();
  try {
    using reader = await Deno.openKv(`${dir}/flowgate.kv`);
    using writer = await Deno.openKv(`${dir}/flowgate.kv`);
    assert.deepEqual(await listEnabledWorkflows(reader, "event-publish"), []);
    const stored = await createWorkflow(writer, makeWorkflow(), SAVE);
    assert.deepEqual((await listEnabledWorkflows(reader, "event-publish")).map((w) => w.id), [
      stored.id,
    ]);
    await setWorkflowEnabled(writer, stored.id, false, { actor: "api:admin" });
    assert.deepEqual(await listEnabledWorkflows(reader, "event-publish"), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setWorkflowEnabled() disables with until and counts as enabled after it", async () => {
  using kv = await Deno.openKv(":memory:");
  const stored = await createWorkflow(kv, makeWorkflow(), SAVE);
  const until = new Date(Date.now() + 60_000);
  const disabled = await setWorkflowEnabled(kv, stored.id, false, { actor: "slack:U1", until });
  assert.equal(disabled.workflow.enabled, false);
  assert.equal(disabled.disabled_until, until.toISOString());
  assert.equal(
    (await getWorkflowVersion(kv, stored.id, 2))?.change,
    `disabled until ${until.toISOString()}`,
  );
  assert.deepEqual(await listEnabledWorkflows(kv, "event-publish"), []);
  const later = new Date(until.getTime() + 1);
  assert.deepEqual(
    (await listEnabledWorkflows(kv, "event-publish", { now: later })).map((w) => w.id),
    [stored.id],
  );
  assert.deepEqual(await listEnabledWorkflows(kv, "event-publish"), []);

  assert.deepEqual(await reenableExpiredWorkflows(kv), []);
  const reenabled = await reenableExpiredWorkflows(kv, { now: later });
  assert.equal(reenabled.length, 1);
  assert.equal(reenabled[0]?.workflow.enabled, true);
  assert.equal(reenabled[0]?.disabled_until, undefined);
  assert.equal((await getWorkflowVersion(kv, stored.id, 3))?.change, "enabled");

  const same = await setWorkflowEnabled(kv, stored.id, true, { actor: "x" });
  assert.equal(same.version, 3, "no new version when nothing changes");
  await assert.rejects(() => setWorkflowEnabled(kv, "nope", true, { actor: "x" }), NotFoundError);
});

Deno.test("deleteWorkflow() removes the workflow and its indexes but keeps the history", async () => {
  using kv = await Deno.openKv(":memory:");
  const stored = await createWorkflow(kv, makeWorkflow(), SAVE);
  await deleteWorkflow(kv, stored.id, { actor: "api:admin" });
  assert.equal(await getWorkflow(kv, stored.id), null);
  assert.equal(await getWorkflow(kv, "block-red"), null);
  assert.deepEqual(await listWorkflows(kv, { trigger: "event-publish" }), []);
  const versions = await listWorkflowVersions(kv, stored.id);
  assert.deepEqual(versions.map((v) => [v.version, v.change, v.saved_by]), [
    [1, "created", "api:admin"],
    [2, "deleted", "api:admin"],
  ]);
  await assert.rejects(() => deleteWorkflow(kv, stored.id, { actor: "x" }), NotFoundError);
  const again = await createWorkflow(kv, makeWorkflow(), SAVE);
  assert.notEqual(again.id, stored.id);
});

Deno.test("a trigger-less draft is listed for no trigger and cannot be enabled without one", async () => {
  using kv = await Deno.openKv(":memory:");
  const withTrigger = makeWorkflow();
  const draft = makeWorkflow({
    name: "draft",
    trigger: null,
    enabled: false,
    nodes: withTrigger.nodes.slice(1),
  });
  const stored = await createWorkflow(kv, draft, { ...SAVE, sourceFormat: "blueprint" });
  await createWorkflow(kv, withTrigger, SAVE);
  assert.deepEqual((await listWorkflows(kv)).map((w) => w.name), ["block-red", "draft"]);
  assert.deepEqual(
    (await listWorkflows(kv, { trigger: "event-publish" })).map((w) => w.name),
    ["block-red"],
  );
  await assert.rejects(
    () => setWorkflowEnabled(kv, stored.id, true, { actor: "api:admin" }),
    (error: unknown) =>
      error instanceof ConflictError &&
      error.message ===
        'Cannot enable workflow "draft": it has no trigger yet; choose a trigger to enable it',
  );
  // Even a stored draft marked enabled (by a bug or an old backup) is never run.
  await replaceWorkflow(kv, stored.id, { ...draft, enabled: true }, SAVE);
  assert.deepEqual(
    (await listEnabledWorkflows(kv, "event-publish")).map((w) => w.name),
    ["block-red"],
  );
  // Given a trigger, it joins that trigger's index; deleting it cleans the index up.
  await replaceWorkflow(kv, stored.id, { ...withTrigger, name: "draft", order: 5 }, SAVE);
  assert.deepEqual(
    (await listEnabledWorkflows(kv, "event-publish")).map((w) => w.name),
    ["block-red", "draft"],
  );
  await deleteWorkflow(kv, stored.id, { actor: "api:admin" });
  assert.deepEqual(
    (await listWorkflows(kv, { trigger: "event-publish" })).map((w) => w.name),
    ["block-red"],
  );
  const draftAgain = await createWorkflow(kv, draft, SAVE);
  await deleteWorkflow(kv, draftAgain.id, { actor: "api:admin" });
  assert.deepEqual((await listWorkflows(kv)).map((w) => w.name), ["block-red"]);
});

/**
 * `kv` with its reads of the revision counter counted; `hold` keeps the answers of the next ones
 * until released.
 */
function countingGets(kv: Deno.Kv) {
  const calls = { gets: 0, held: [] as (() => void)[], hold: false };
  const get = kv.get.bind(kv);
  kv.get = (async (...args: Parameters<Deno.Kv["get"]>) => {
    if (args[0][0] !== KEY_WORKFLOWS_REVISION) return await get(...args);
    calls.gets++;
    const hold = calls.hold;
    const answer = await get(...args);
    if (hold) await new Promise<void>((resolve) => calls.held.push(resolve));
    return answer;
  }) as Deno.Kv["get"];
  return calls;
}

Deno.test("listEnabledWorkflows() shares one revision read among the calls of a burst", async () => {
  using kv = await Deno.openKv(":memory:");
  await createWorkflow(kv, makeWorkflow({ name: "a" }), SAVE);
  await listEnabledWorkflows(kv, "event-publish");
  const calls = countingGets(kv);
  const lists = await Promise.all(
    Array.from({ length: 50 }, () => listEnabledWorkflows(kv, "event-publish")),
  );
  assert.ok(lists.every((list) => list.map((w) => w.name).join() === "a"));
  assert.equal(calls.gets, 1, "fifty calls in one tick share one read of the revision counter");
});

Deno.test("listEnabledWorkflows() begun after a write sees it, though a read was already on its way", async () => {
  using kv = await Deno.openKv(":memory:");
  const stored = await createWorkflow(kv, makeWorkflow({ name: "a" }), SAVE);
  await listEnabledWorkflows(kv, "event-publish");
  const calls = countingGets(kv);
  calls.hold = true;
  // A read is answered before the write, and its answer held on the way back.
  const early = listEnabledWorkflows(kv, "event-publish");
  await waitFor(() => calls.held.length === 1, { what: "the first revision read" });
  calls.hold = false;
  await setWorkflowEnabled(kv, stored.id, false, { actor: "api:admin" });
  // Begun after the write committed: it must not take the early read's answer.
  const late = listEnabledWorkflows(kv, "event-publish");
  const joined = listEnabledWorkflows(kv, "event-publish");
  calls.held.shift()!();
  assert.deepEqual((await early).map((w) => w.name), ["a"]);
  assert.deepEqual(await late, [], "a call begun after the write sees it");
  assert.deepEqual(await joined, []);
  assert.equal(calls.gets, 2, "the two later calls share the second read");
});
