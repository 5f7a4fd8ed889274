/**
 * Adversarial: `POST /api/workflows/:id/enable` with a trigger, on a trigger-less draft, sent 50
 * times at once, with broken and huge bodies, unknown and 10,000-character triggers, and again
 * once enabled. One version attaches the trigger; every other answer is a 2xx or a JSON 4xx.
 */

import assert from "node:assert/strict";
import { getWorkflow, listWorkflowVersions } from "../../store/workflows.ts";
import { startTestApp } from "../server/test_app.ts";
import { describeAnswer, jsonRouteProblem, readAnswer } from "./harness.ts";

const CURATION = new URL(
  "../fixtures/workflows/misp-blueprints/blueprint_curation---allow-curation-process.json",
  import.meta.url,
);

Deno.test("enabling a trigger-less draft 50 times at once attaches its trigger once", async () => {
  await using test = await startTestApp();
  const created = await test.admin("/api/workflows", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: await Deno.readTextFile(CURATION),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const { id, version } = (await created.json()).workflow as { id: string; version: number };
  const enable = async (body: BodyInit) =>
    await readAnswer(
      await test.admin(`/api/workflows/${id}/enable`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
      }),
    );
  const violations: string[] = [];
  const check = (label: string, answer: Awaited<ReturnType<typeof enable>>) => {
    const problem = jsonRouteProblem(answer);
    if (problem) violations.push(`${label}: ${problem}`);
  };
  for (
    const [label, body] of [
      ["broken JSON", '{"trigger": '],
      ["a list", "[1]"],
      ["a numeric trigger", '{"trigger": 1}'],
      ["an unknown trigger", '{"trigger": "nope"}'],
      ["a 10,000-character trigger", JSON.stringify({ trigger: "t".repeat(10_000) })],
      ["a 3 MB body", JSON.stringify({ trigger: "event-publish", pad: "p".repeat(3_000_000) })],
    ] as const
  ) {
    const answer = await enable(body);
    check(label, answer);
    if (answer.status < 400) {
      violations.push(`${label}: accepted ${describeAnswer(answer.status, answer.text)}`);
    }
  }
  assert.equal((await getWorkflow(test.kv, id))?.workflow.enabled, false);

  const answers = await Promise.all(
    Array.from({ length: 50 }, () => enable(JSON.stringify({ trigger: "event-publish" }))),
  );
  answers.forEach((answer, i) => check(`concurrent enable ${i}`, answer));
  assert.ok(answers.some((answer) => answer.status === 200), "one enable went through");
  const stored = await getWorkflow(test.kv, id);
  assert.equal(stored?.workflow.trigger, "event-publish");
  assert.equal(stored?.workflow.enabled, true);
  assert.equal(stored?.version, version + 1, "the trigger was attached by one new version");
  assert.equal((await listWorkflowVersions(test.kv, id)).length, 2);

  check(
    "enabled again with its trigger",
    await enable(JSON.stringify({ trigger: "event-publish" })),
  );
  check(
    "enabled again with another",
    await enable(JSON.stringify({ trigger: "event-after-save" })),
  );
  assert.deepEqual(violations, []);
});
