/**
 * Adversarial: tlp:red events with one 40 KB, 300 KB or 5 MB field (`Event.info`, a tag name, an
 * attribute value, an attribute comment) against the README's gate, whose message quotes
 * `Event.info`. On `/query` the verdict is a block (200 with an error, never a 5xx MISP would take
 * as allow) and the run is stored and readable; on `/hooks` the 202 is kept: the run exists.
 */

import assert from "node:assert/strict";
import { createQueueHandler } from "../../services/queue.ts";
import { HOOK_TOKEN, startTestApp, type TestApp } from "../server/test_app.ts";
import {
  ConsoleClient,
  describeAnswer,
  pollUntil,
  queryBlockProblem,
  queryBody,
  readAnswer,
  README_WORKFLOW_YAML,
  saveWorkflowYaml,
  tlpRedEvent,
} from "./harness.ts";

/** Field lengths in characters (the text is partly multi-byte, so bytes run higher). */
const SIZES = [40_000, 300_000, 5_000_000];
const FIELDS = ["Event.info", "a tag name", "an attribute value", "an attribute comment"] as const;
type LongField = (typeof FIELDS)[number];

/** Outcomes a stored run ends with once its workflows ran. */
const FINAL_OUTCOMES = new Set(["success", "blocked", "failure", "pending-approval"]);

/** Text of `length` characters: ASCII, accents, an emoji (surrogate pair) and quotes. */
function longText(length: number): string {
  const unit = 'Leak of "red" data — é 🚩 <b>&amp;</b> \\ ';
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/** The real tlp:red event with one field `length` characters long. */
async function eventWith(field: LongField, length: number): Promise<Record<string, unknown>> {
  const data = await tlpRedEvent();
  const event = data.Event as Record<string, unknown>;
  const attribute = (event.Attribute as Record<string, unknown>[])[0]!;
  const text = longText(length);
  // One event per payload: the same event queued twice at once is another matter (re-entrancy).
  event.uuid = crypto.randomUUID();
  if (field === "Event.info") event.info = text;
  if (field === "a tag name") {
    event.Tag = [...(event.Tag as unknown[]), { id: "4242", name: `misp-galaxy:actor="${text}"` }];
  }
  if (field === "an attribute value") attribute.value = text;
  if (field === "an attribute comment") attribute.comment = text;
  return data;
}

function label(field: LongField, length: number): string {
  return `${field} of ${length.toLocaleString("en")} characters`;
}

async function runIds(test: TestApp): Promise<Set<string>> {
  const response = await test.admin("/api/runs?limit=100");
  const text = await response.text();
  assert.equal(response.status, 200, `GET /api/runs: ${describeAnswer(response.status, text)}`);
  return new Set(JSON.parse(text).items.map((run: { id: string }) => run.id));
}

Deno.test("POST /query blocks tlp:red events with 40 KB to 5 MB fields and stores the run", async (t) => {
  await using test = await startTestApp();
  await saveWorkflowYaml(test, README_WORKFLOW_YAML);
  const browser = new ConsoleClient(test);
  await browser.signIn();

  for (const field of FIELDS) {
    for (const length of SIZES) {
      await t.step(label(field, length), async () => {
        const before = await runIds(test);
        const answer = await readAnswer(
          await test.request("/query", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: queryBody("flowgate_event_publish", await eventWith(field, length)),
          }),
        );
        const problem = queryBlockProblem(answer);
        assert.equal(problem, undefined, `${label(field, length)} on /query: ${problem}`);

        const added = [...await runIds(test)].filter((id) => !before.has(id));
        assert.equal(
          added.length,
          1,
          `${label(field, length)}: expected 1 stored run, got ${added.length}`,
        );
        const runId = added[0]!;
        const run = await readAnswer(await test.admin(`/api/runs/${runId}`));
        assert.equal(
          run.status,
          200,
          `GET /api/runs/${runId}: ${describeAnswer(run.status, run.text)}`,
        );
        assert.match(run.contentType, /application\/json/);
        const record = JSON.parse(run.text);
        assert.equal(record.outcome, "blocked", `${label(field, length)}: stored outcome`);
        assert.ok(
          record.errors.length > 0,
          `${label(field, length)}: the block's reason is stored`,
        );

        const input = await readAnswer(await test.admin(`/api/runs/${runId}/input`));
        assert.equal(
          input.status,
          200,
          `GET /api/runs/${runId}/input: ${describeAnswer(input.status, input.text)}`,
        );
        assert.equal(typeof JSON.parse(input.text), "object");

        const page = await browser.request(`/runs/${runId}`);
        await page.body?.cancel();
        assert.equal(page.status, 200, `Console page of run ${runId} answered ${page.status}`);
      });
    }
  }
});

Deno.test("POST /hooks/misp/event-publish keeps every 202: runs with 40 KB to 5 MB fields exist", async () => {
  await using test = await startTestApp();
  await saveWorkflowYaml(test, README_WORKFLOW_YAML);
  const listener = test.kv.listenQueue(createQueueHandler(test.ctx));
  const accepted = new Map<string, string>();
  const problems: string[] = [];
  try {
    for (const field of FIELDS) {
      for (const length of SIZES) {
        const answer = await readAnswer(
          await test.request("/hooks/misp/event-publish", {
            method: "POST",
            headers: { Authorization: `Bearer ${HOOK_TOKEN}`, "Content-Type": "application/json" },
            body: JSON.stringify(await eventWith(field, length)),
          }),
        );
        if (answer.status !== 202) {
          problems.push(
            `${label(field, length)}: expected 202, got ${
              describeAnswer(answer.status, answer.text)
            }`,
          );
          continue;
        }
        const ids: string[] = JSON.parse(answer.text).run_ids;
        if (ids.length !== 1) problems.push(`${label(field, length)}: ${ids.length} run ids`);
        for (const id of ids) accepted.set(id, label(field, length));
      }
    }

    // Acknowledged means kept: each run is stored once its queue work is done.
    const finished = new Map<string, Record<string, unknown>>();
    await pollUntil(async () => {
      for (const id of accepted.keys()) {
        if (finished.has(id)) continue;
        const response = await test.admin(`/api/runs/${id}`);
        if (response.status !== 200) {
          await response.body?.cancel();
          continue;
        }
        const run = await response.json();
        if (FINAL_OUTCOMES.has(run.outcome)) finished.set(id, run);
      }
      return finished.size === accepted.size;
    }, 15_000);
    for (const [id, what] of accepted) {
      const run = finished.get(id);
      if (run === undefined) {
        problems.push(`${what}: 202, but run ${id} was not stored within 15 s`);
      } else if (run.outcome !== "blocked") problems.push(`${what}: run ${id} is "${run.outcome}"`);
    }
  } finally {
    test.kv.close();
    await listener;
  }
  assert.deepEqual(
    problems,
    [],
    `Acknowledged webhooks lost or wrong:\n  ${problems.join("\n  ")}`,
  );
});
