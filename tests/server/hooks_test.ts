import assert from "node:assert/strict";
import { createOutboundFetch } from "../../modules/action/lib/outbound.ts";
import { getRun } from "../../store/runs.ts";
import { readChunks } from "../../store/chunks.ts";
import { KEY_INTAKE_PAYLOADS, KEY_INTAKES } from "../../store/keys.ts";
import type { IntakeRecord } from "../../store/types.ts";
import { createQueueHandler } from "../../services/queue.ts";
import { startWebhookSink } from "../fakes/webhook_sink.ts";
import { HOOK_TOKEN, realEvent, startTestApp } from "./test_app.ts";
import { waitFor } from "../fixtures/wait_for.ts";

const NOTIFY_YAML = (url: string) => `
name: notify-after-save
description: Posts every saved event to a sink
trigger: event-after-save
enabled: true
start: post
nodes:
  post:
    module: webhook
    params:
      url: ${url}/hook
`;

async function postHook(
  test: Awaited<ReturnType<typeof startTestApp>>,
  trigger: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await test.request(`/hooks/misp/${trigger}`, {
    method: "POST",
    headers: {
      "Authorization": `Bearer ${HOOK_TOKEN}`,
      "Content-Type": "application/json",
      ...headers,
    },
    body,
  });
}

Deno.test("POST /hooks/misp/:trigger takes a webhook durably and the queue runs it", async (t) => {
  await using sink = startWebhookSink();
  await using test = await startTestApp({
    services: { outboundFetch: createOutboundFetch({ allow: ["127.0.0.1/32"] }) },
  });
  const created = await test.admin("/api/workflows", {
    method: "POST",
    headers: { "Content-Type": "application/yaml" },
    body: NOTIFY_YAML(sink.url),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const listener = test.kv.listenQueue(createQueueHandler(test.ctx));
  const body = JSON.stringify(await realEvent());

  let runIds: string[] = [];
  await t.step("202 with one run id per enabled workflow", async () => {
    const response = await postHook(test, "event-after-save", body);
    assert.equal(response.status, 202);
    assert.match(response.headers.get("Content-Type") ?? "", /application\/json/);
    const answer = await response.json();
    assert.equal(answer.run_ids.length, 1);
    assert.equal(answer.duplicate, false);
    runIds = answer.run_ids;
  });

  await t.step("the run executes from the queue and is readable with its trace", async () => {
    await waitFor(async () => (await getRun(test.kv, runIds[0]!)) !== null);
    const response = await test.admin(`/api/runs/${runIds[0]}`);
    assert.equal(response.status, 200);
    const run = await response.json();
    assert.equal(run.outcome, "success");
    assert.equal(run.actor.kind, "webhook");
    assert.equal(run.trace.length, 2);
    assert.equal(sink.requests.length, 1);
    assert.equal(
      JSON.parse(sink.requests[0]!.body).Event.uuid,
      "5c6ab833-676c-42f3-95d2-034f0a00020f",
    );
  });

  await t.step("a resend inside the window gets the first run ids and runs nothing", async () => {
    const response = await postHook(test, "event-after-save", body);
    assert.equal(response.status, 202);
    assert.deepEqual(await response.json(), { run_ids: runIds, duplicate: true });
  });

  await t.step("a JSON body is stored inside its intake payload exactly as sent", async () => {
    const sent = JSON.stringify({ ...await realEvent(), _note: "kept" }, null, 1)
      .replace("kept", "k\\u0065pt");
    const response = await postHook(test, "event-after-save", sent);
    assert.equal(response.status, 202);
    const [runId] = (await response.json()).run_ids;
    let record: IntakeRecord | undefined;
    for await (const entry of test.kv.list<IntakeRecord>({ prefix: [KEY_INTAKES] })) {
      if (entry.value.run_ids.includes(runId)) record = entry.value;
    }
    assert.ok(record, "the intake record of the webhook");
    const bytes = await readChunks(
      test.kv,
      [KEY_INTAKE_PAYLOADS, record.id],
      record.payload_chunks,
    );
    const stored = new TextDecoder().decode(bytes!);
    assert.ok(stored.endsWith(`"data":${sent}}`), stored.slice(0, 200));
    assert.equal(JSON.parse(stored).data._note, "kept");
    await waitFor(async () => (await getRun(test.kv, runId)) !== null, { what: "the run" });
  });

  await t.step("a form-encoded body (MISP's content_type form) is decoded", async () => {
    const form = new URLSearchParams({
      "Event[uuid]": "0a8f3f6e-8d9e-4a4e-9b1e-2f5a1c0d9e01",
      "Event[info]": "form event",
      "Event[timestamp]": "1700000000",
      "Event[Attribute][0][type]": "ip-dst",
      "Event[Attribute][0][value]": "192.0.2.1",
    });
    const response = await postHook(test, "event-after-save", form.toString(), {
      "Content-Type": "application/x-www-form-urlencoded",
    });
    assert.equal(response.status, 202);
    const [runId] = (await response.json()).run_ids;
    await waitFor(async () => (await getRun(test.kv, runId)) !== null);
    const input = await (await test.admin(`/api/runs/${runId}/input`)).json();
    assert.deepEqual(input.Event.Attribute, [{ type: "ip-dst", value: "192.0.2.1" }]);
  });
  test.kv.close();
  await listener;
});

Deno.test("POST /hooks/misp/:trigger refuses what it must", async (t) => {
  await using test = await startTestApp({ env: { FLOWGATE_MAX_BODY_BYTES: "2048" } });
  await t.step("no token: 401 naming both ways to send it", async () => {
    const response = await test.request("/hooks/misp/event-publish", {
      method: "POST",
      body: "{}",
    });
    assert.equal(response.status, 401);
    assert.match((await response.json()).error, /X-Flowgate-Token/);
  });
  await t.step("a wrong token: 401", async () => {
    const response = await postHook(test, "event-publish", "{}", {
      Authorization: "Bearer wrong-token-of-some-length",
    });
    assert.equal(response.status, 401);
  });
  await t.step("the X-Flowgate-Token header works too", async () => {
    const response = await test.request("/hooks/misp/event-publish", {
      method: "POST",
      headers: { "X-Flowgate-Token": HOOK_TOKEN, "Content-Type": "application/json" },
      body: "{}",
    });
    assert.equal(response.status, 202);
  });
  await t.step("unknown trigger: 404 listing the known ones", async () => {
    const response = await postHook(test, "event-explode", "{}");
    assert.equal(response.status, 404);
    const body = await response.json();
    assert.match(body.error, /Unknown trigger "event-explode"/);
    assert.ok(body.known_triggers.includes("event-publish"));
  });
  await t.step("body over the limit: 413", async () => {
    const response = await postHook(
      test,
      "event-publish",
      JSON.stringify({ x: "y".repeat(4_096) }),
    );
    assert.equal(response.status, 413);
    assert.match((await response.json()).error, /FLOWGATE_MAX_BODY_BYTES/);
  });
  await t.step("unsupported content type: 415", async () => {
    const response = await postHook(test, "event-publish", "<xml/>", {
      "Content-Type": "text/xml",
    });
    assert.equal(response.status, 415);
  });
  await t.step("not JSON: 400; not an object: 400", async () => {
    assert.equal((await postHook(test, "event-publish", "{oops")).status, 400);
    assert.equal((await postHook(test, "event-publish", "[1]")).status, 400);
  });
});

Deno.test("POST /hooks/misp/:trigger without FLOWGATE_HOOK_TOKEN: 503 saying what to set", async () => {
  await using test = await startTestApp({ env: { FLOWGATE_HOOK_TOKEN: "" } });
  const response = await test.request("/hooks/misp/event-publish", {
    method: "POST",
    headers: { Authorization: `Bearer ${HOOK_TOKEN}` },
    body: "{}",
  });
  assert.equal(response.status, 503);
  assert.match((await response.json()).error, /FLOWGATE_HOOK_TOKEN/);
});
