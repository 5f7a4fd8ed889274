import assert from "node:assert/strict";
import { ulid } from "ulid";
import { encodeJson, sha256Hex } from "../../store/chunks.ts";
import {
  getRun,
  getRunInput,
  getRunSummary,
  INPUT_EXPIRY_SLACK_MS,
  listRuns,
  saveRun,
  saveRuns,
} from "../../store/runs.ts";
import type { RunRecord } from "../../store/types.ts";
import { eventWithAttributes, loadEvent, makeRun, makeTraceEntry } from "./fixtures.ts";

const RETENTION = { retentionDays: 14 };

async function countKeys(kv: Deno.Kv, prefix: Deno.KvKey): Promise<number> {
  return (await Array.fromAsync(kv.list({ prefix }))).length;
}

Deno.test("saveRun() stores a run that getRun() and getRunInput() read back", async () => {
  using kv = await Deno.openKv(":memory:");
  const input = await loadEvent();
  const run = makeRun({ event: { uuid: "5c6ab833-676c-42f3-95d2-034f0a00020f", info: "x" } });
  await saveRun(kv, run, { input, ...RETENTION });
  const hash = await sha256Hex(encodeJson(input));
  assert.deepEqual(await getRun(kv, run.id), { ...run, "input_hash": hash });
  assert.deepEqual(await getRunInput(kv, run.id), input);
  assert.equal(await getRun(kv, "01ARZ3NDEKTSV4RRFFQ69G5FAV"), null);
  assert.equal(await getRunInput(kv, "01ARZ3NDEKTSV4RRFFQ69G5FAV"), null);
});

Deno.test("saveRuns() stores one copy of an input shared by several runs", async () => {
  using kv = await Deno.openKv(":memory:");
  const input = await eventWithAttributes(1_000);
  const bytes = encodeJson(input).length;
  assert.ok(bytes > 60_000, "the input spans several chunks");
  const runs = [makeRun(), makeRun(), makeRun()];
  await saveRuns(kv, runs.map((run) => ({ run, input })), RETENTION);
  await saveRun(kv, makeRun(), { input, ...RETENTION });
  assert.equal(await countKeys(kv, ["run_inputs"]), Math.ceil(bytes / 60_000));
  for (const run of runs) assert.deepEqual(await getRunInput(kv, run.id), input);
});

Deno.test("saveRuns() rewrites a stored input only when a new run would outlive it", async (t) => {
  using kv = await Deno.openKv(":memory:");
  const input = await eventWithAttributes(1_000);
  const hash = await sha256Hex(encodeJson(input));
  const chunks = Math.ceil(encodeJson(input).length / 60_000);
  const stamps = async () =>
    (await Array.fromAsync(kv.list({ prefix: ["run_inputs", hash] })))
      .map((entry) => entry.versionstamp);
  const start = Date.now();
  const first = makeRun();
  await saveRuns(kv, [{ run: first, input }], { ...RETENTION, now: new Date(start) });
  const written = await stamps();
  assert.equal(written.length, chunks);

  await t.step("a run expiring within the slack reuses the stored chunks", async () => {
    const run = makeRun();
    const now = new Date(start + INPUT_EXPIRY_SLACK_MS / 2);
    await saveRuns(kv, [{ run, input }], { ...RETENTION, now });
    assert.deepEqual(await stamps(), written);
    assert.deepEqual(await getRunInput(kv, run.id), input);
    assert.equal((await getRunSummary(kv, run.id))?.input_hash, hash);
  });
  await t.step("a run expiring after the stored input rewrites it", async () => {
    const run = makeRun();
    const now = new Date(start + 2 * INPUT_EXPIRY_SLACK_MS);
    await saveRuns(kv, [{ run, input }], { ...RETENTION, now });
    const rewritten = await stamps();
    rewritten.forEach((stamp, i) => assert.ok(stamp! > written[i]!));
    assert.deepEqual(await getRunInput(kv, run.id), input);
  });
  await t.step("another KV gets its own copy", async () => {
    using other = await Deno.openKv(":memory:");
    const run = makeRun();
    await saveRuns(other, [{ run, input }], RETENTION);
    assert.equal(await countKeys(other, ["run_inputs"]), chunks);
    assert.deepEqual(await getRunInput(other, run.id), input);
  });
});

Deno.test("saveRuns() counts an input as stored only once its commit succeeded", async () => {
  using kv = await Deno.openKv(":memory:");
  let failCommits = true;
  // The same KV whose commits fail while `failCommits` is set.
  const flaky = new Proxy(kv, {
    get(target, property) {
      if (property !== "atomic") {
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return () => {
        const op = target.atomic();
        return new Proxy(op, {
          get(inner, name) {
            if (name === "commit" && failCommits) {
              return () => Promise.reject(new Error("Disk full"));
            }
            const value = Reflect.get(inner, name);
            return typeof value === "function" ? value.bind(inner) : value;
          },
        });
      };
    },
  });
  const input = await eventWithAttributes(100);
  await assert.rejects(() => saveRuns(flaky, [{ run: makeRun(), input }], RETENTION), /Disk full/);
  failCommits = false;
  const run = makeRun();
  await saveRuns(flaky, [{ run, input }], RETENTION);
  assert.deepEqual(await getRunInput(kv, run.id), input);
});

Deno.test("saveRuns() stores and hashes inputJson exactly as received", async (t) => {
  for (
    const [label, inputJson] of [
      ["bytes", new TextEncoder().encode('{ "a" : [1, "\\u00e9"] }')],
      ["text", '{ "a" : [1, "\\u00e9"] }'],
    ] as const
  ) {
    await t.step(label, async () => {
      using kv = await Deno.openKv(":memory:");
      const run = makeRun();
      const input = { a: [1, "é"] };
      await saveRuns(kv, [{ run, input, inputJson }], RETENTION);
      const raw = typeof inputJson === "string" ? new TextEncoder().encode(inputJson) : inputJson;
      assert.equal((await getRunSummary(kv, run.id))?.input_hash, await sha256Hex(raw));
      assert.deepEqual((await kv.get(["run_inputs", await sha256Hex(raw), 0])).value, raw);
      assert.deepEqual(await getRunInput(kv, run.id), input);
    });
  }
});

Deno.test("saveRuns() takes a hash of inputJson given, or one still being computed", async (t) => {
  for (
    const [label, given] of [["text", "f".repeat(64)], [
      "promise",
      Promise.resolve("e".repeat(64)),
    ]] as const
  ) {
    await t.step(label, async () => {
      using kv = await Deno.openKv(":memory:");
      const run = makeRun();
      await saveRuns(kv, [{ run, input: {}, inputJson: "{}", inputJsonHash: given }], RETENTION);
      assert.equal((await getRunSummary(kv, run.id))?.input_hash, await given);
    });
  }
  await t.step("a hash that failed is computed here instead", async () => {
    using kv = await Deno.openKv(":memory:");
    const run = makeRun();
    const failed = Promise.reject(new Error("digest failed"));
    await saveRuns(kv, [{ run, input: {}, inputJson: "{}", inputJsonHash: failed }], RETENTION);
    const expected = await sha256Hex(new TextEncoder().encode("{}"));
    assert.equal((await getRunSummary(kv, run.id))?.input_hash, expected);
  });
});

Deno.test("saveRuns() commits a run's alsoSet sets with its summary", async () => {
  using kv = await Deno.openKv(":memory:");
  const run = makeRun();
  const key = ["queue_done", "intake:test"];
  await saveRuns(
    kv,
    [{ run, input: {}, alsoSet: [{ key, value: "done", expireIn: 60_000 }] }],
    RETENTION,
  );
  const [summary, mark] = await kv.getMany([["runs", run.id], key]);
  assert.ok(summary.value);
  assert.equal(mark.value, "done");
  // One atomic commit: both carry its versionstamp.
  assert.equal(mark.versionstamp, summary.versionstamp);
});

Deno.test("saveRun() round-trips traces larger than one value and than one commit", async (t) => {
  for (const [label, size] of [["over 64 KiB", 100_000], ["over 800 KiB", 1_200_000]] as const) {
    await t.step(label, async () => {
      using kv = await Deno.openKv(":memory:");
      const note = "n".repeat(10_000);
      const trace = Array.from(
        { length: Math.ceil(size / 10_000) },
        (_, i) => makeTraceEntry(i, note),
      );
      const run = makeRun({ trace });
      const input = await eventWithAttributes(3_000);
      await saveRun(kv, run, { input, ...RETENTION });
      const read = await getRun(kv, run.id);
      assert.equal(read?.trace.length, trace.length);
      assert.deepEqual(read?.trace, trace);
      assert.deepEqual(await getRunInput(kv, run.id), input);
      assert.ok(await countKeys(kv, ["run_traces", run.id]) >= Math.ceil(size / 60_000));
    });
  }
});

Deno.test("saveRuns() groups many runs and saves every one", async () => {
  using kv = await Deno.openKv(":memory:");
  const event = await loadEvent();
  const runs = Array.from({ length: 300 }, () => ({ run: makeRun(), input: event }));
  await saveRuns(kv, runs, RETENTION);
  const page = await listRuns(kv, { limit: 500 });
  assert.equal(page.items.length, 300);
  assert.equal(page.cursor, undefined);
});

Deno.test("saveRun() stores a run whose summary would be over the value limit, cut", async () => {
  using kv = await Deno.openKv(":memory:");
  const run = makeRun({ errors: ["e".repeat(70_000)] });
  await saveRun(kv, run, { input: {}, ...RETENTION });
  const summary = await getRunSummary(kv, run.id);
  assert.match(
    summary?.errors[0] ?? "",
    /… \[cut: 67,952 more characters; whole text in the full run\]$/,
  );
  assert.deepEqual((await getRun(kv, run.id))?.errors, run.errors);
});

/** Ten runs, one second apart, newest last, over two workflows, outcomes and events. */
async function seedRuns(kv: Deno.Kv): Promise<RunRecord[]> {
  const start = Date.parse("2026-11-20T10:00:00Z");
  const runs = Array.from({ length: 10 }, (_, i) =>
    makeRun({
      id: ulid(start + i * 1_000),
      "workflow_id": i % 2 === 0 ? "wf-even" : "wf-odd",
      trigger: i < 5 ? "event-publish" : "attribute-after-save",
      outcome: i % 3 === 0 ? "blocked" : "success",
      "started_at": new Date(start + i * 1_000).toISOString(),
      ...(i % 4 === 0 ? { event: { uuid: "ev-1" } } : { event: { uuid: `ev-x${i}` } }),
    }));
  await saveRuns(kv, runs.map((run) => ({ run, input: { i: run.id } })), {
    ...RETENTION,
    now: new Date(start + 20_000),
  });
  return runs;
}

Deno.test("listRuns() filters and orders newest first", async (t) => {
  using kv = await Deno.openKv(":memory:");
  const runs = await seedRuns(kv);
  const now = new Date(Date.parse("2026-11-20T10:01:00Z"));
  const ids = async (options: Parameters<typeof listRuns>[1]) =>
    (await listRuns(kv, { now, ...options })).items.map((run) =>
      runs.findIndex((r) => r.id === run.id)
    );

  await t.step("no filter", async () => {
    assert.deepEqual(await ids({}), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const page = await listRuns(kv, { now, limit: 1 });
    assert.deepEqual(page.items[0]?.trace, []);
  });
  await t.step("by workflow", async () => {
    assert.deepEqual(await ids({ workflowId: "wf-odd" }), [9, 7, 5, 3, 1]);
  });
  await t.step("by trigger", async () => {
    assert.deepEqual(await ids({ trigger: "event-publish" }), [4, 3, 2, 1, 0]);
  });
  await t.step("by outcome", async () => {
    assert.deepEqual(await ids({ outcome: "blocked" }), [9, 6, 3, 0]);
  });
  await t.step("by event uuid", async () => {
    assert.deepEqual(await ids({ eventUuid: "ev-1" }), [8, 4, 0]);
  });
  await t.step("by time", async () => {
    assert.deepEqual(
      await ids({ since: runs[3]!.started_at, until: runs[6]!.started_at }),
      [6, 5, 4, 3],
    );
    assert.deepEqual(await ids({ since: new Date(Date.parse(runs[8]!.started_at)) }), [9, 8]);
    assert.deepEqual(await ids({ until: runs[1]!.started_at }), [1, 0]);
  });
  await t.step("combined filters", async () => {
    assert.deepEqual(await ids({ workflowId: "wf-even", outcome: "blocked" }), [6, 0]);
    assert.deepEqual(await ids({ eventUuid: "ev-1", trigger: "event-publish" }), [4, 0]);
    assert.deepEqual(await ids({ workflowId: "wf-odd", since: runs[4]!.started_at }), [9, 7, 5]);
  });
});

Deno.test("listRuns() pages with a cursor, with and without filters", async (t) => {
  using kv = await Deno.openKv(":memory:");
  const runs = await seedRuns(kv);
  const now = new Date(Date.parse("2026-11-20T10:01:00Z"));
  const collect = async (options: Parameters<typeof listRuns>[1]) => {
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await listRuns(kv, { now, ...options, ...(cursor ? { cursor } : {}) });
      pages.push(page.items.map((run) => run.id));
      cursor = page.cursor;
    } while (cursor);
    return pages;
  };
  await t.step("primary index", async () => {
    const pages = await collect({ limit: 4 });
    assert.deepEqual(pages.flat(), runs.map((run) => run.id).reverse());
    assert.deepEqual(pages.slice(0, 3).map((page) => page.length), [4, 4, 2]);
  });
  await t.step("index plus a checked filter", async () => {
    const pages = await collect({ workflowId: "wf-even", outcome: "success", limit: 1 });
    const expected = [8, 4, 2].map((i) => runs[i]!.id);
    assert.deepEqual(pages.flat(), expected);
    assert.ok(pages.every((page) => page.length <= 1));
  });
});

Deno.test("runs past their retention are not returned before KV purges them", async (t) => {
  using kv = await Deno.openKv(":memory:");
  const run = makeRun();
  await saveRun(kv, run, { input: { a: 1 }, retentionDays: 1 });
  const tomorrow = new Date(Date.now() + 86_400_000 + 1_000);
  await t.step("still stored", async () => {
    assert.ok(await getRun(kv, run.id));
    assert.equal((await listRuns(kv)).items.length, 1);
  });
  await t.step("checked on read", async () => {
    assert.equal(await getRun(kv, run.id, { now: tomorrow }), null);
    assert.equal(await getRunInput(kv, run.id, { now: tomorrow }), null);
    assert.deepEqual(await listRuns(kv, { now: tomorrow }), { items: [] });
    assert.deepEqual((await listRuns(kv, { now: tomorrow, workflowId: "wf-1" })).items, []);
  });
  await t.step("a run already past its retention is not written", async () => {
    const old = makeRun();
    await saveRun(kv, old, {
      input: { a: 2 },
      retentionDays: 14,
      now: new Date(Date.now() - 15 * 86_400_000),
    });
    assert.equal((await kv.get(["runs", old.id])).versionstamp, null);
  });
});
