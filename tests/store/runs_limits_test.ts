import assert from "node:assert/strict";
import { jsonByteLength, splitChunks } from "../../store/chunks.ts";
import {
  CHUNK_BYTES,
  MAX_RUN_ERRORS,
  MAX_RUN_EVENT_INFO_CHARS,
  MAX_RUN_EVENT_KEY_CHARS,
  MAX_RUN_SUMMARY_BYTES,
} from "../../store/keys.ts";
import {
  getRun,
  getRunInput,
  getRunSummary,
  listRuns,
  saveRun,
  writeRuns,
} from "../../store/runs.ts";
import { loadEvent, makeRun, makeTraceEntry } from "./fixtures.ts";

const RETENTION = { retentionDays: 14 };
const SIZES = [["40 KB", 40_000], ["300 KB", 300_000], ["5 MB", 5_000_000]] as const;

async function summaryBytes(kv: Deno.Kv, id: string): Promise<number> {
  return jsonByteLength((await kv.get(["runs", id])).value);
}

Deno.test("saveRun() stores runs with oversized event info and errors, cut with a marker", async (t) => {
  for (const [label, size] of SIZES) {
    await t.step(label, async () => {
      using kv = await Deno.openKv(":memory:");
      const info = "i".repeat(size);
      const message = `Publication of ${info} blocked`;
      const input = await loadEvent();
      (input.Event as Record<string, unknown>).info = info;
      const run = makeRun({
        outcome: "blocked",
        success: false,
        errors: [message],
        event: { uuid: "5c6ab833-676c-42f3-95d2-034f0a00020f", info },
      });
      await saveRun(kv, run, { input, ...RETENTION });

      assert.ok((await summaryBytes(kv, run.id)) <= MAX_RUN_SUMMARY_BYTES);
      const summary = await getRunSummary(kv, run.id);
      const cutInfo = size - MAX_RUN_EVENT_INFO_CHARS;
      assert.equal(
        summary?.event?.info,
        "i".repeat(MAX_RUN_EVENT_INFO_CHARS) +
          `… [cut: ${
            cutInfo.toLocaleString("en-US")
          } more characters; whole text in the run's input]`,
      );
      assert.match(
        summary?.errors[0] ?? "",
        /… \[cut: [\d,]+ more characters; whole text in the full run\]$/,
      );

      // The whole run: errors whole again, the event as the summary holds it, the input whole.
      const read = await getRun(kv, run.id);
      assert.deepEqual(read?.errors, [message]);
      assert.equal(read?.event?.info, summary?.event?.info);
      assert.equal("errors_chunks" in (read ?? {}), false);
      assert.equal(
        ((await getRunInput(kv, run.id)) as { Event: { info: string } }).Event.info,
        info,
      );
      // Listed, and found by its event.
      const listed = await listRuns(kv, { eventUuid: run.event!.uuid! });
      assert.deepEqual(listed.items.map((item) => item.id), [run.id]);
      assert.match(listed.items[0]!.errors[0]!, /\[cut: /);
    });
  }
});

Deno.test("saveRun() keeps every summary under the value limit whatever the strings hold", async (t) => {
  const cases: [string, string][] = [
    ["escaped control characters (6 bytes each in JSON)", "\u0001".repeat(300_000)],
    ["4-byte characters", "😀".repeat(200_000)],
    ["quotes and backslashes", '"\\'.repeat(200_000)],
  ];
  for (const [label, text] of cases) {
    await t.step(label, async () => {
      using kv = await Deno.openKv(":memory:");
      const run = makeRun({
        "workflow_name": text,
        "deciding_node_id": text,
        actor: { kind: "webhook", id: text },
        errors: Array.from({ length: 50 }, () => text.slice(0, 100_000)),
        event: { uuid: text, id: text, info: text, timestamp: text },
      });
      await saveRun(kv, run, { input: { text }, ...RETENTION });
      assert.ok((await summaryBytes(kv, run.id)) <= MAX_RUN_SUMMARY_BYTES);
      const read = await getRun(kv, run.id);
      assert.equal(read?.errors.length, 50);
      assert.equal(read?.errors[0], text.slice(0, 100_000));
      const summary = await getRunSummary(kv, run.id);
      assert.ok((summary?.errors.length ?? 0) <= MAX_RUN_ERRORS + 1);
      assert.match(summary?.errors.at(-1) ?? "", /more errors; whole text in the full run\]$/);
      assert.match(summary?.workflow_name ?? "", /… \[cut: [\d,]+ more characters\]$/);
      // A cut surrogate pair would not survive KV's UTF-8 round trip intact.
      assert.equal(summary?.event?.info?.includes("\ufffd"), false);
    });
  }
});

Deno.test("saveRun() gives an overlong event uuid no runs_by_event entry", async () => {
  using kv = await Deno.openKv(":memory:");
  const uuid = "u".repeat(3_000);
  const run = makeRun({ event: { uuid } });
  await saveRun(kv, run, { input: {}, ...RETENTION });
  assert.ok((await getRun(kv, run.id)) !== null);
  assert.equal((await Array.fromAsync(kv.list({ prefix: ["runs_by_event"] }))).length, 0);
  const summary = await getRunSummary(kv, run.id);
  assert.equal(summary?.event?.uuid?.startsWith("u".repeat(MAX_RUN_EVENT_KEY_CHARS) + "…"), true);
  assert.deepEqual((await listRuns(kv, { eventUuid: uuid })).items, []);
  // The other indexes still hold it.
  assert.deepEqual((await listRuns(kv, { workflowId: run.workflow_id })).items.map((r) => r.id), [
    run.id,
  ]);
});

Deno.test("saveRun() round-trips one trace entry bigger than a chunk, split inside characters", async () => {
  using kv = await Deno.openKv(":memory:");
  // 3-byte characters: the chunk boundaries fall inside them; chunks are split by bytes.
  const note = "€".repeat(CHUNK_BYTES);
  const entry = { ...makeTraceEntry(0, note), errors: ["ß".repeat(CHUNK_BYTES)] };
  const run = makeRun({ trace: [entry] });
  await saveRun(kv, run, { input: {}, ...RETENTION });
  assert.deepEqual((await getRun(kv, run.id))?.trace, [entry]);
  const bytes = new TextEncoder().encode(JSON.stringify([entry]));
  assert.ok(splitChunks(bytes).every((chunk) => chunk.length <= CHUNK_BYTES));
  assert.equal(
    (await Array.fromAsync(kv.list({ prefix: ["run_traces", run.id] }))).length,
    Math.ceil(bytes.length / CHUNK_BYTES),
  );
});

Deno.test("writeRuns() ignores a store-only errors_chunks field of a restored run", async () => {
  using kv = await Deno.openKv(":memory:");
  const run = { ...makeRun(), "errors_chunks": 7 };
  const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
  await writeRuns(kv, [{ run, input: {}, expiresAt }]);
  assert.equal((await getRunSummary(kv, run.id))?.errors_chunks, undefined);
  assert.deepEqual((await getRun(kv, run.id))?.errors, []);
});
