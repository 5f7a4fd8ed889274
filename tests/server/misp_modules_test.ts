import assert from "node:assert/strict";
import { sha256Hex } from "../../store/chunks.ts";
import { getRun, getRunInput, listRuns } from "../../store/runs.ts";
import { createMispModulesProxy } from "../../services/misp_modules_proxy.ts";
import { jsonMemberSpan, parseQueryBody } from "../../server/routes/misp_modules.ts";
import { TRIGGERS } from "../../triggers/catalogue.ts";
import {
  importRedBlueprint,
  mispQuery,
  realEvent,
  startTestApp,
  type TestApp,
} from "./test_app.ts";

/** Verdicts decided on the server's thread, and in verdict Workers: the same answers and runs. */
const VERDICT_THREADS = [
  { where: "server thread", verdictWorkers: 0 },
  { where: "verdict Workers", verdictWorkers: 2 },
];

/** How many `/query` calls a verdict Worker ended with `outcome` (`/metrics`). */
function offThreadCount(test: TestApp, outcome: string): number {
  const text = test.ctx.metrics.render({ deadLetters: 0, workflowsEnabled: 0 });
  const line = text.split("\n").find((row) =>
    row.startsWith(`flowgate_verdict_worker_requests_total{outcome="${outcome}"}`)
  );
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

Deno.test("GET /modules lists one misp-modules action module per trigger in MISP's shape", async () => {
  await using test = await startTestApp();
  const response = await test.request("/modules");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("Content-Type") ?? "", /application\/json/);
  const modules = await response.json();
  assert.equal(modules.length, TRIGGERS.length);
  const enrichment = modules.find((m: { name: string }) =>
    m.name === "flowgate_enrichment_before_query"
  );
  assert.ok(enrichment);
  assert.equal(enrichment.type, "action_mod");
  assert.deepEqual(enrichment.meta["module-type"], ["action"]);
  assert.deepEqual(enrichment.meta.config, {
    params: {},
    blocking: true,
    support_filters: false,
    expect_misp_core_format: true,
  });
  assert.deepEqual(enrichment.mispattributes, { config: enrichment.meta.config });
  const afterSave = modules.find((m: { name: string }) => m.name === "flowgate_event_after_save");
  assert.equal(afterSave.meta.config.blocking, false);
  for (const module of modules) assert.match(module.name, /^flowgate_[a-z_]+$/);
});

Deno.test("/modules and /query refuse addresses outside FLOWGATE_MISP_ALLOW", async (t) => {
  await using test = await startTestApp({ env: { FLOWGATE_MISP_ALLOW: "10.1.0.0/16" } });
  const from = (hostname: string) => ({ remoteAddr: { hostname, port: 1, transport: "tcp" } });
  await t.step("loopback is refused when not listed", async () => {
    const response = await test.app.request("/modules", {}, from("127.0.0.1"));
    assert.equal(response.status, 403);
    assert.match((await response.json()).error, /FLOWGATE_MISP_ALLOW/);
  });
  await t.step("an address inside the range passes", async () => {
    const response = await test.app.request("/modules", {}, from("10.1.2.3"));
    assert.equal(response.status, 200);
  });
  await t.step("X-Forwarded-For is ignored without trusted proxies", async () => {
    const response = await test.app.request("/modules", {
      headers: { "X-Forwarded-For": "10.1.2.3" },
    }, from("192.0.2.1"));
    assert.equal(response.status, 403);
  });
  await t.step("/query answers a refusal as MISP's module error, so MISP blocks", async () => {
    const response = await test.app.request("/query", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ module: "flowgate_event_publish", data: { Event: { info: "x" } } }),
    }, from("192.0.2.1"));
    assert.equal(response.status, 200);
    assert.match((await response.json()).error, /192\.0\.2\.1.*FLOWGATE_MISP_ALLOW/);
  });
});

for (const { where, verdictWorkers } of VERDICT_THREADS) {
  Deno.test(`${where}: POST /query blocks a tlp:red event and allows it without the tag (real blueprint)`, async (t) => {
    await using test = await startTestApp({ verdictWorkers });
    const workflowId = await importRedBlueprint(test);

    await t.step("tagged tlp:red: MISP's error shape with the stop reason", async () => {
      const response = await mispQuery(
        test,
        "flowgate_enrichment_before_query",
        await realEvent({ tlpRed: true }),
      );
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(typeof body.error, "string");
      assert.match(body.error, /stop-execution/);
      assert.equal(body.data, undefined);
    });

    await t.step('untagged: {"data": true}', async () => {
      const response = await mispQuery(test, "flowgate_enrichment_before_query", await realEvent());
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { data: true });
    });

    await t.step("both runs are recorded with their traces", async () => {
      const page = await listRuns(test.kv, { workflowId });
      assert.equal(page.items.length, 2);
      const outcomes = page.items.map((run) => run.outcome).sort();
      assert.deepEqual(outcomes, ["blocked", "success"]);
      const blocked = page.items.find((run) => run.outcome === "blocked")!;
      const full = await getRun(test.kv, blocked.id);
      assert.ok(full && full.trace.length >= 2);
      assert.equal(full.actor.kind, "misp");
      assert.equal(full.event?.uuid, "5c6ab833-676c-42f3-95d2-034f0a00020f");
    });

    await t.step("decided where the test says", () => {
      assert.equal(offThreadCount(test, "decided"), verdictWorkers ? 2 : 0);
    });
  });
}

for (const { where, verdictWorkers } of VERDICT_THREADS) {
  Deno.test(`${where}: POST /query records the data member's bytes exactly as MISP sent them`, async (t) => {
    await using test = await startTestApp({ verdictWorkers });
    const workflowId = await importRedBlueprint(test);
    const event = await realEvent({ tlpRed: true });
    const send = async (body: string) => {
      const response = await test.request("/query", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
      });
      assert.match((await response.json()).error, /stop-execution/);
      const runs = await listRuns(test.kv, { workflowId, limit: 1 });
      return runs.items[0]!;
    };

    await t.step("indented data is stored and hashed as sent", async () => {
      const dataText = JSON.stringify(event, null, 1).replace("tlp:red", "tlp\\u003ared");
      const run = await send(
        `{\n "module": "flowgate_enrichment_before_query",\n "data": ${dataText},\n "params": {}\n}\n`,
      );
      assert.equal(run.input_hash, await sha256Hex(new TextEncoder().encode(dataText)));
      assert.deepEqual(await getRunInput(test.kv, run.id), event);
    });
    await t.step("a large data member, hashed while it is parsed, gets the same hash", async () => {
      const large = structuredClone(event) as { Event: Record<string, unknown> };
      large.Event.comment = "x".repeat(200_000);
      const dataText = JSON.stringify(large);
      const run = await send(
        `{"module": "flowgate_enrichment_before_query", "data": ${dataText}, "params": {}}`,
      );
      assert.equal(run.input_hash, await sha256Hex(new TextEncoder().encode(dataText)));
      assert.deepEqual(await getRunInput(test.kv, run.id), large);
    });
    await t.step("node context sent alongside is added to the stored input", async () => {
      const run = await send(JSON.stringify({
        module: "flowgate_enrichment_before_query",
        data: event,
        params: {},
        filteredItems: [{ id: "1" }],
      }));
      assert.deepEqual(await getRunInput(test.kv, run.id), {
        ...event,
        _filteredItems: [{ id: "1" }],
      });
    });

    await t.step(
      "a body in many chunks is stored whole after its chunks are released",
      async () => {
        const dataText = JSON.stringify(event);
        const bytes = new TextEncoder().encode(
          `{"module": "flowgate_enrichment_before_query", "data": ${dataText}, "params": {}}`,
        );
        const chunks = Array.from(
          { length: Math.ceil(bytes.length / 1_000) },
          (_, i) => bytes.slice(i * 1_000, (i + 1) * 1_000),
        );
        const pending = [...chunks];
        const response = await test.request("/query", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: new ReadableStream<Uint8Array>({
            pull: (controller) => {
              const next = pending.shift();
              if (next === undefined) controller.close();
              else controller.enqueue(next);
            },
          }),
          duplex: "half",
        } as RequestInit);
        assert.match((await response.json()).error, /stop-execution/);
        // Released once copied: the server's own reads get fresh buffers from the network.
        assert.ok(chunks.every((chunk) => chunk.buffer.detached));
        const run = (await listRuns(test.kv, { workflowId, limit: 1 })).items[0]!;
        assert.equal(run.input_hash, await sha256Hex(new TextEncoder().encode(dataText)));
        assert.deepEqual(await getRunInput(test.kv, run.id), event);
      },
    );

    await t.step("decided where the test says", () => {
      assert.equal(offThreadCount(test, "decided"), verdictWorkers ? 4 : 0);
    });
  });
}

Deno.test("parseQueryBody() parses as JSON.parse does and slices data only when proven", async (t) => {
  const encode = (text: string) => new TextEncoder().encode(text);
  const decode = (bytes: Uint8Array | undefined) =>
    bytes === undefined ? undefined : new TextDecoder().decode(bytes);
  const cases: [string, string, string | undefined][] = [
    [
      "MISP's member order",
      '{"module":"m","data":{"a":"}\\"{"},"params":{"p":"]"}}',
      '{"a":"}\\"{"}',
    ],
    ["data last", '{"module":"m","params":{},"data":{"b":[1,2]}}', '{"b":[1,2]}'],
    [
      "whitespace and a byte order mark",
      '\ufeff { "data" : { "c" : "\\\\" } , "x" : 1 } ',
      '{ "c" : "\\\\" }',
    ],
    ["escaped key", '{"module":"m","d\\u0061ta":{"d":1}}', '{"d":1}'],
    ["repeated data: the last wins", '{"data":{"first":1},"data":{"last":2},"p":{}}', '{"last":2}'],
    ["repeated trailing member", '{"data":{"e":1},"p":{},"p":{"q":2}}', '{"e":1}'],
    ["no data member", '{"module":"m"}', undefined],
    ["data not an object", '{"data":[1,{"a":2}],"p":"x"}', '[1,{"a":2}]'],
  ];
  for (const [label, text, dataText] of cases) {
    await t.step(label, () => {
      const parsed = parseQueryBody(encode(text));
      assert.deepEqual(parsed.body, JSON.parse(text.replace(/^\ufeff/, "")));
      assert.equal(decode(parsed.dataJson), dataText);
    });
  }
  await t.step("a guess past the scan budget that is wrong falls back to the whole body", () => {
    const text = JSON.stringify({ data: { a: 1 }, data2: { big: "x".repeat(20_000) } });
    assert.deepEqual(jsonMemberSpan(encode(text), "data")?.start, text.indexOf("{", 1));
    const parsed = parseQueryBody(encode(text));
    assert.deepEqual(parsed.body, JSON.parse(text));
    assert.equal(parsed.dataJson, undefined);
  });
  await t.step("a repeated data member past the scan budget is not mistaken for the first", () => {
    const text = JSON.stringify({ module: "m", data: { a: 1 } }).slice(0, -1) +
      `,"data":{"big":"${"y".repeat(20_000)}"},"params":{}}`;
    const parsed = parseQueryBody(encode(text));
    assert.deepEqual(parsed.body, JSON.parse(text));
    assert.equal(parsed.dataJson, undefined);
  });
  await t.step("not JSON throws SyntaxError", () => {
    assert.throws(() => parseQueryBody(encode('{"data":{"a":1},')), SyntaxError);
  });
});

for (const { where, verdictWorkers } of VERDICT_THREADS) {
  Deno.test(`${where}: POST /query answers MISP's error shape for an unknown module and bad data`, async (t) => {
    await using test = await startTestApp({ verdictWorkers });
    await t.step("unknown module", async () => {
      const response = await mispQuery(test, "no_such_module", {});
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { error: 'Module "no_such_module" not found' });
    });
    await t.step("data not an object", async () => {
      const response = await mispQuery(test, "flowgate_event_publish", [1, 2]);
      assert.equal(response.status, 200);
      assert.match((await response.json()).error, /"data" must be a JSON object/);
    });
    await t.step("the Worker said so, when there is one", () => {
      assert.equal(offThreadCount(test, "not-object"), verdictWorkers ? 1 : 0);
    });
    await t.step("body not JSON: still 200, since MISP allows on any non-2xx answer", async () => {
      const response = await test.request("/query", { method: "POST", body: "{nope" });
      assert.equal(response.status, 200);
      assert.match((await response.json()).error, /not JSON/);
    });
  });
}

Deno.test("POST /query on a non-blocking trigger takes the data in and allows at once", async () => {
  await using test = await startTestApp();
  const response = await mispQuery(test, "flowgate_event_after_save", await realEvent());
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { data: true });
});

Deno.test("FLOWGATE_MISP_MODULES_URL: upstream action modules are listed and their calls forwarded", async (t) => {
  const received: unknown[] = [];
  await using upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const url = new URL(request.url);
      if (url.pathname === "/modules") {
        return Response.json([
          {
            name: "mattermost",
            type: "action_mod",
            mispattributes: {},
            meta: { "module-type": ["action"], config: { params: {}, blocking: false } },
          },
          {
            name: "dns",
            type: "expansion",
            mispattributes: {},
            meta: { "module-type": ["expansion"] },
          },
        ]);
      }
      received.push(await request.json());
      return Response.json({ data: true, from: "upstream" });
    },
  );
  const url = `http://127.0.0.1:${upstream.addr.port}`;
  await using test = await startTestApp({ proxy: createMispModulesProxy(url) });

  await t.step("/modules adds only the upstream's action modules", async () => {
    const modules = await (await test.request("/modules")).json();
    const names = modules.map((m: { name: string }) => m.name);
    assert.ok(names.includes("mattermost"));
    assert.ok(!names.includes("dns"));
    assert.ok(names.includes("flowgate_event_publish"));
  });

  await t.step("/query for an upstream module is forwarded unchanged", async () => {
    const body = {
      module: "mattermost",
      data: { Event: { info: "x" } },
      params: { channel_id: "c" },
    };
    const response = await test.request("/query", { method: "POST", body: JSON.stringify(body) });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { data: true, from: "upstream" });
    assert.deepEqual(received.at(-1), body);
  });

  await t.step("/healthz reports the upstream", async () => {
    const health = await (await test.request("/healthz")).json();
    assert.equal(health.misp_modules.reachable, true);
    assert.equal(health.misp_modules.modules, 1);
  });

  await t.step(
    "an unreachable upstream is reported and Flowgate's modules keep working",
    async () => {
      await upstream.shutdown();
      const proxy = createMispModulesProxy(url, { listTimeoutMs: 200 });
      await using down = await startTestApp({ proxy });
      const health = await (await down.request("/healthz")).json();
      assert.equal(health.ok, true);
      assert.equal(health.misp_modules.reachable, false);
      const modules = await (await down.request("/modules")).json();
      assert.equal(modules.length, TRIGGERS.length);
      const response = await mispQuery(down, "flowgate_event_publish", await realEvent());
      assert.deepEqual(await response.json(), { data: true });
    },
  );
});
