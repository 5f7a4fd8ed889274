import assert from "node:assert/strict";
import { sha256Hex } from "../../../engine/digest.ts";
import { httpBuildQuery, webhook } from "../../../modules/action/webhook.ts";
import { createOutboundFetch } from "../../../modules/action/lib/outbound.ts";
import { TransientError } from "../../../engine/module_errors.ts";
import { startWebhookSink } from "../../fakes/webhook_sink.ts";
import { createOutboundContext, loopbackFetch, sightingData } from "./outbound_test_context.ts";

const TLS = {
  cert: await Deno.readTextFile(new URL("../../fakes/tls/cert.pem", import.meta.url)),
  key: await Deno.readTextFile(new URL("../../fakes/tls/key.pem", import.meta.url)),
};

Deno.test("webhook posts the roaming data as JSON with MISP's headers", async () => {
  await using sink = startWebhookSink();
  const data = await sightingData();
  const { context, records } = createOutboundContext({
    module: webhook,
    data,
    params: {
      url: `${sink.url}/hooks/{{ Event.uuid }}`,
      headers: "X-Extra: 1\nAccept: text/plain",
    },
    services: { outboundFetch: loopbackFetch() },
  });
  assert.equal(await webhook.exec(context), true);
  assert.deepEqual(context.errors, []);
  const [request] = sink.requests;
  assert.equal(request?.method, "POST");
  assert.equal(request?.path, "/hooks/5c6ab833-676c-42f3-95d2-034f0a00020f");
  assert.equal(request?.headers["content-type"], "application/json");
  assert.equal(request?.headers["accept"], "text/plain");
  assert.equal(request?.headers["x-extra"], "1");
  assert.match(request?.headers["user-agent"] ?? "", /^Flowgate/);
  assert.deepEqual(JSON.parse(request?.body ?? ""), data);
  assert.equal(records.length, 1);
  assert.equal(records[0]?.kind, "http");
  assert.equal(records[0]?.dry, false);
  assert.equal(records[0]?.method, "POST");
  assert.equal(records[0]?.url, `${sink.url}/hooks/5c6ab833-676c-42f3-95d2-034f0a00020f`);
  assert.equal(records[0]?.body_digest, await sha256Hex(request?.body ?? ""));
});

Deno.test("webhook renders the payload template with JSON escaping", async (t) => {
  await using sink = startWebhookSink();
  const data = await sightingData();
  (data.Event as Record<string, unknown>).info = 'Say "hi"\n<script>';
  const run = async (payload: string) => {
    const { context } = createOutboundContext({
      module: webhook,
      data,
      params: { url: `${sink.url}/p`, payload },
      services: { outboundFetch: loopbackFetch() },
    });
    assert.equal(await webhook.exec(context), true);
    return sink.requests.at(-1)?.body ?? "";
  };
  await t.step("a JSON payload is decoded and re-encoded", async () => {
    const body = await run(
      '{ "info": "{{ Event.info }}", "count": {{ Event.Attribute | length }} }',
    );
    assert.equal(body, JSON.stringify({ info: 'Say "hi"\n<script>', count: 2 }));
  });
  await t.step("a payload that is not JSON is sent as a JSON string literal", async () => {
    assert.equal(await run("Event {{ Event.id }} published"), '"Event 1 published"');
  });
  await t.step("tojson embeds structures", async () => {
    const body = await run('{"tags": {{ Event.Tag | map(attribute="name") | tojson }}}');
    assert.deepEqual(JSON.parse(body), { tags: ['misp-galaxy:botnet="Asprox"'] });
  });
});

Deno.test("webhook sends form bodies PHP-style and GET without a body", async (t) => {
  await using sink = startWebhookSink();
  await t.step("form + empty payload: http_build_query of the roaming data", async () => {
    const data = {
      Event: { id: "1", info: "a b&c", published: false, Tag: [{ name: "tlp:red" }] },
    };
    const { context } = createOutboundContext({
      module: webhook,
      data,
      params: { url: `${sink.url}/f`, content_type: "form", request_method: "put" },
      services: { outboundFetch: loopbackFetch() },
    });
    assert.equal(await webhook.exec(context), true);
    const request = sink.requests.at(-1);
    assert.equal(request?.method, "PUT");
    assert.equal(request?.headers["content-type"], "application/x-www-form-urlencoded");
    assert.equal(
      request?.body,
      "Event%5Bid%5D=1&Event%5Binfo%5D=a+b%26c&Event%5Bpublished%5D=0&Event%5BTag%5D%5B0%5D%5Bname%5D=tlp%3Ared",
    );
  });
  await t.step("form + payload: the rendered string as it is", async () => {
    const { context } = createOutboundContext({
      module: webhook,
      data: { Event: { id: "7" } },
      params: { url: `${sink.url}/f`, content_type: "form", payload: "id={{ Event.id }}&x=1" },
      services: { outboundFetch: loopbackFetch() },
    });
    assert.equal(await webhook.exec(context), true);
    assert.equal(sink.requests.at(-1)?.body, "id=7&x=1");
  });
  await t.step("GET sends no body", async () => {
    const { context, records } = createOutboundContext({
      module: webhook,
      data: { Event: { id: "7" } },
      params: { url: `${sink.url}/g?id={{ Event.id }}`, request_method: "get" },
      services: { outboundFetch: loopbackFetch() },
    });
    assert.equal(await webhook.exec(context), true);
    const request = sink.requests.at(-1);
    assert.equal(request?.method, "GET");
    assert.equal(request?.search, "?id=7");
    assert.equal(request?.body, "");
    assert.equal(records[0]?.body_digest, undefined);
  });
  await t.step("httpBuildQuery() drops nulls and encodes spaces as +", () => {
    assert.equal(
      httpBuildQuery({ a: null, b: "x y", c: true, d: [1, 2] }),
      "b=x+y&c=1&d%5B0%5D=1&d%5B1%5D=2",
    );
  });
});

Deno.test("webhook fails with MISP's messages", async (t) => {
  await using sink = startWebhookSink();
  const exec = async (params: Record<string, unknown>) => {
    const { context } = createOutboundContext({
      module: webhook,
      data: { Event: { id: "1" } },
      params,
      services: { outboundFetch: loopbackFetch({ timeoutMs: 200 }) },
    });
    const result = await webhook.exec(context);
    return { result, errors: context.errors };
  };
  await t.step("no URL", async () => {
    assert.deepEqual(await exec({ url: "" }), { result: false, errors: ["URL not provided."] });
  });
  for (const status of [401, 403]) {
    await t.step(`${status}`, async () => {
      sink.reply({ status, body: "nope" });
      assert.deepEqual(await exec({ url: sink.url }), {
        result: false,
        errors: ["Authentication failed."],
      });
    });
  }
  await t.step("another 4xx quotes the body", async () => {
    sink.reply({ status: 404, body: "no such hook" });
    assert.deepEqual(await exec({ url: sink.url }), {
      result: false,
      errors: [
        "Something went wrong with the request or the remote side is having issues. Body returned: no such hook",
      ],
    });
  });
  for (const status of [429, 500, 503]) {
    await t.step(`${status} is transient`, async () => {
      sink.reply({ status, body: "busy" });
      await assert.rejects(
        exec({ url: sink.url }),
        (error: unknown) =>
          error instanceof TransientError &&
          error.message ===
            "Something went wrong with the request or the remote side is having issues. Body returned: busy",
      );
    });
  }
  await t.step("a slow peer is a transient socket error", async () => {
    sink.reply({ delayMs: 5_000 });
    await assert.rejects(
      exec({ url: `${sink.url}/slow` }),
      (error: unknown) =>
        error instanceof TransientError &&
        error.message ===
          `Something went wrong while sending the request. Error returned: Cannot call "${sink.url}/slow": no answer within 200 ms`,
    );
  });
});

Deno.test("webhook refuses private targets unless allowed", async (t) => {
  await using sink = startWebhookSink();
  const cases = [
    "http://127.0.0.1:9/x",
    "http://10.0.0.1/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/x",
    "http://[::ffff:127.0.0.1]/x",
  ];
  for (const url of cases) {
    await t.step(url, async () => {
      const { context, records } = createOutboundContext({
        module: webhook,
        data: { Event: { id: "1" } },
        params: { url },
        services: { outboundFetch: createOutboundFetch({ allow: [] }) },
      });
      assert.equal(await webhook.exec(context), false);
      assert.equal(context.errors.length, 1);
      assert.match(
        context.errors[0] ?? "",
        /^Refused to call ".*": .* allow it with FLOWGATE_OUTBOUND_ALLOW$/,
      );
      assert.equal(records[0]?.dry, false);
    });
  }
  await t.step("a redirect to the metadata address", async () => {
    sink.reply({ redirectTo: "http://169.254.169.254/latest/meta-data/iam" });
    const { context } = createOutboundContext({
      module: webhook,
      data: { Event: { id: "1" } },
      params: { url: `${sink.url}/r` },
      services: { outboundFetch: loopbackFetch() },
    });
    assert.equal(await webhook.exec(context), false);
    assert.match(context.errors[0] ?? "", /169\.254\.169\.254 is a cloud metadata address/);
  });
});

Deno.test("webhook honours self_signed", async (t) => {
  await using sink = startWebhookSink({ tls: TLS });
  const exec = async (selfSigned: string) => {
    const { context } = createOutboundContext({
      module: webhook,
      data: { Event: { id: "1" } },
      params: { url: `https://127.0.0.1:${sink.port}/tls`, self_signed: selfSigned },
      services: { outboundFetch: loopbackFetch() },
    });
    return { result: await webhook.exec(context), errors: context.errors };
  };
  await t.step("deny", async () => {
    const { result, errors } = await exec("deny");
    assert.equal(result, false);
    assert.match(
      errors[0] ?? "",
      /^Something went wrong while sending the request\. Error returned: .*TLS certificate refused/,
    );
  });
  await t.step("allow", async () => {
    assert.deepEqual(await exec("allow"), { result: true, errors: [] });
    assert.equal(sink.requests.length, 1);
  });
});

Deno.test("webhook in a dry run records the call and sends nothing", async () => {
  await using sink = startWebhookSink();
  const data = await sightingData();
  const { context, records } = createOutboundContext({
    module: webhook,
    data,
    dryRun: true,
    params: { url: `${sink.url}/dry`, headers: "Authorization: Bearer s3cr3t-value" },
    services: { outboundFetch: loopbackFetch() },
  });
  assert.equal(await webhook.exec(context), true);
  assert.equal(sink.requests.length, 0);
  assert.equal(records.length, 1);
  const [record] = records;
  assert.equal(record?.dry, true);
  assert.equal(record?.method, "POST");
  assert.equal(record?.url, `${sink.url}/dry`);
  assert.equal(record?.body_digest, await sha256Hex(JSON.stringify(data)));
  assert.match(
    record?.summary ?? "",
    /^POST http:\/\/127\.0\.0\.1:\d+\/dry \(json, \d+\.\d KiB\)$/,
  );
  assert.doesNotMatch(JSON.stringify(records), /s3cr3t-value/);
});

Deno.test("webhook keeps header credentials out of records and errors", async () => {
  await using sink = startWebhookSink();
  sink.reply({ status: 400, body: "bad token s3cr3t-value" });
  const { context, records } = createOutboundContext({
    module: webhook,
    data: { Event: { id: "1" } },
    params: {
      url: `${sink.url}/x?token=s3cr3t-query`,
      headers: "Authorization: Bearer s3cr3t-value",
    },
    services: { outboundFetch: loopbackFetch() },
  });
  assert.equal(await webhook.exec(context), false);
  assert.equal(sink.requests[0]?.headers.authorization, "Bearer s3cr3t-value");
  const visible = JSON.stringify({ records, errors: context.errors });
  assert.doesNotMatch(visible, /s3cr3t/);
  assert.match(visible, /bad token \[redacted\]/);
});
