import assert from "node:assert/strict";
import { setLogSink } from "../../../engine/log.ts";
import {
  createMispClient,
  type MispClientOptions,
  MispError,
  mispMessageOf,
} from "../../../modules/action/lib/misp_client.ts";
import type { MispApi } from "../../../engine/module_services.ts";
import { type FakeMisp, startFakeMisp } from "../../fakes/misp_server.ts";
import { startSightingMisp } from "./misp_test_context.ts";

/** A client of the fake MISP with its key and TLS verification on, plus the given options. */
function clientOf(misp: FakeMisp, options: Partial<MispClientOptions> = {}): MispApi {
  return createMispClient({ url: misp.url, apiKey: misp.apiKey, tlsVerify: true, ...options });
}

Deno.test("createMispClient() sends the key and JSON headers and decodes MISP's answer", async () => {
  await using misp = await startSightingMisp();
  const client = createMispClient({ url: `${misp.url}/`, apiKey: misp.apiKey, tlsVerify: true });
  const answer = await client.request<{ Event: { uuid: string } }>(
    "POST",
    "/events/edit/1",
    { Event: { distribution: "2" } },
  );
  assert.equal(answer.Event.uuid, "5c6ab833-676c-42f3-95d2-034f0a00020f");
  const [request] = misp.requests;
  assert.equal(request?.method, "POST");
  assert.equal(request?.path, "/events/edit/1");
  assert.equal(request?.headers.authorization, misp.apiKey);
  assert.equal(request?.headers.accept, "application/json");
  assert.equal(request?.headers["content-type"], "application/json");
  assert.deepEqual(request?.body, { Event: { distribution: "2" } });
});

Deno.test("createMispClient() retries", async (t) => {
  await t.step("on 500 then succeeds", async () => {
    await using misp = await startSightingMisp();
    const client = clientOf(misp, { retries: 2, retryBaseMs: 1 });
    misp.failNext({ status: 500, count: 2 });
    const answer = await client.request<{ Event: unknown }>("GET", "/events/view/1");
    assert.ok(answer.Event);
    assert.equal(misp.requests.length, 3);
  });

  await t.step("on 429, honouring Retry-After within the cap", async () => {
    await using misp = await startSightingMisp();
    const client = clientOf(misp, { retries: 1, retryAfterCapMs: 5 });
    misp.failNext({ status: 429, headers: { "Retry-After": "3600" } });
    await client.request("GET", "/events/view/1");
    assert.equal(misp.requests.length, 2);
  });

  await t.step("until the retries run out, then throws a transient refusal", async () => {
    await using misp = await startFakeMisp();
    const client = clientOf(misp, { retries: 1, retryBaseMs: 1 });
    misp.failNext({ status: 503, count: 5 });
    const error = await client.request("GET", "/events/view/1").catch((e) => e);
    assert.ok(error instanceof MispError);
    assert.equal(error.kind, "refused");
    assert.equal(error.status, 503);
    assert.equal(error.transient, true);
    assert.equal(misp.requests.length, 2);
  });

  await t.step("not on 400", async () => {
    await using misp = await startFakeMisp();
    const client = clientOf(misp);
    misp.failNext({ status: 400 });
    const error = await client.request("GET", "/events/view/1").catch((e) => e);
    assert.ok(error instanceof MispError);
    assert.equal(error.status, 400);
    assert.equal(error.transient, false);
    assert.equal(misp.requests.length, 1);
  });
});

Deno.test("createMispClient() surfaces MISP's refusal message", async () => {
  await using misp = await startFakeMisp();
  const client = clientOf(misp);
  misp.failNext({
    status: 403,
    body: {
      saved: false,
      name: "Could not edit attribute",
      message: "Could not edit attribute",
      url: "/attributes/edit/1",
      errors: "You do not have permission to do that.",
    },
  });
  const error = await client.request("POST", "/attributes/edit/1", {}).catch((e) => e);
  assert.ok(error instanceof MispError);
  assert.equal(error.kind, "refused");
  assert.equal(error.status, 403);
  assert.equal(
    error.mispMessage,
    "Could not edit attribute: You do not have permission to do that.",
  );
  assert.equal(
    error.message,
    'MISP refused "POST /attributes/edit/1" (HTTP 403): Could not edit attribute: You do not have permission to do that.',
  );
});

Deno.test("createMispClient() reports wire failures", async (t) => {
  await t.step("a timeout", async () => {
    await using misp = await startFakeMisp();
    const client = clientOf(misp, { timeoutMs: 30, retries: 0 });
    misp.failNext({ status: 200, delayMs: 100 });
    const error = await client.request("GET", "/events/view/1").catch((e) => e);
    assert.ok(error instanceof MispError);
    assert.equal(error.kind, "wire");
    assert.equal(error.transient, true);
    assert.match(error.message, /no answer within 30 ms/);
  });

  await t.step("a refused connection, retried", async () => {
    const misp = await startFakeMisp();
    await misp.close();
    const client = clientOf(misp, { retries: 1, retryBaseMs: 1 });
    const error = await client.request("GET", "/events/view/1").catch((e) => e);
    assert.ok(error instanceof MispError);
    assert.equal(error.kind, "wire");
    assert.equal(error.transient, true);
  });

  await t.step("an answer that is not JSON, not retried", async () => {
    let calls = 0;
    const client = createMispClient({
      url: "http://misp.invalid",
      apiKey: "k".repeat(40),
      tlsVerify: true,
      fetch: () => {
        calls++;
        return Promise.resolve(new Response("<html>Login</html>", { status: 200 }));
      },
    });
    const error = await client.request("GET", "/events/view/1").catch((e) => e);
    assert.ok(error instanceof MispError);
    assert.equal(error.kind, "wire");
    assert.equal(error.transient, false);
    assert.equal(calls, 1);
  });
});

Deno.test("createMispClient() never puts the API key in an error or a log line", async () => {
  const apiKey = "0123456789abcdef0123456789abcdef01234567";
  const lines: string[] = [];
  const previous = setLogSink((line) => lines.push(line));
  try {
    const client = createMispClient({
      url: "http://misp.invalid",
      apiKey,
      tlsVerify: true,
      retries: 1,
      retryBaseMs: 1,
      fetch: (_input, init) => {
        const key = new Headers(init?.headers).get("Authorization");
        return Promise.reject(new TypeError(`connection reset while sending ${key}`));
      },
    });
    const error = await client.request("GET", "/events/view/1").catch((e) => e);
    assert.ok(error instanceof MispError);
    assert.match(error.message, /connection reset while sending \[redacted\]/);
    assert.ok(!error.message.includes(apiKey));
    assert.ok(lines.length > 0);
    assert.ok(lines.every((line) => !line.includes(apiKey)));

    const echo = createMispClient({
      url: "http://misp.invalid",
      apiKey,
      tlsVerify: true,
      fetch: () =>
        Promise.resolve(
          Response.json({ name: `Invalid key ${apiKey}`, message: `Invalid key ${apiKey}` }, {
            status: 403,
          }),
        ),
    });
    const refused = await echo.request("GET", "/events/view/1").catch((e) => e);
    assert.ok(refused instanceof MispError);
    assert.ok(!refused.message.includes(apiKey));
    assert.ok(!String(refused.mispMessage).includes(apiKey));

    // A proxy's page (200, not JSON) that quotes the request's key.
    const page = createMispClient({
      url: "http://misp.invalid",
      apiKey,
      tlsVerify: true,
      fetch: () => Promise.resolve(new Response(`<p>key=${apiKey}</p>`, { status: 200 })),
    });
    const notJson = await page.request("GET", "/servers/getVersion").catch((e) => e);
    assert.ok(notJson instanceof MispError);
    assert.match(notJson.message, /not JSON/);
    assert.ok(!notJson.message.includes(apiKey), notJson.message);
  } finally {
    setLogSink(previous);
  }
});

Deno.test("mispMessageOf() reads MISP's message, errors or raw text", () => {
  assert.equal(mispMessageOf('{"name":"Not Found","message":"Not Found","url":"/x"}'), "Not Found");
  assert.equal(
    mispMessageOf('{"message":"Could not add","errors":{"value":["Value is empty"]}}'),
    'Could not add: {"value":["Value is empty"]}',
  );
  assert.equal(mispMessageOf("Internal Server Error\n"), "Internal Server Error");
});

/** A self-signed certificate for 127.0.0.1 made with openssl, or null when openssl is missing. */
async function selfSignedCertificate(): Promise<{ cert: string; key: string } | null> {
  const dir = await Deno.makeTempDir();
  try {
    const { success } = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    if (!success) return null;
    return {
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  } catch {
    return null;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const TLS = await selfSignedCertificate();

Deno.test({
  name: "createMispClient() refuses a self-signed MISP unless its certificate is given",
  ignore: TLS === null,
  fn: async () => {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, cert: TLS!.cert, key: TLS!.key, onListen: () => {} },
      () => Response.json({ Event: { id: "1" } }),
    );
    try {
      const url = `https://127.0.0.1:${server.addr.port}`;
      const strict = createMispClient({ url, apiKey: "k".repeat(40), tlsVerify: true, retries: 0 });
      const error = await strict.request("GET", "/events/view/1").catch((e) => e);
      assert.ok(error instanceof MispError);
      assert.equal(error.kind, "wire");
      assert.match(error.message, /certificate.*MISP_CA_CERT/s);

      const trusting = createMispClient({
        url,
        apiKey: "k".repeat(40),
        tlsVerify: false,
        caCerts: [TLS!.cert],
      });
      assert.deepEqual(await trusting.request("GET", "/events/view/1"), { Event: { id: "1" } });
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test("createMispClient() stops a call and its retries when the caller aborts", async () => {
  await using misp = await startFakeMisp();
  const client = clientOf(misp, { retries: 5, retryBaseMs: 10_000 });
  misp.failNext({ status: 500, count: 5 });
  const controller = new AbortController();
  const pending = client.request("GET", "/events/view/1", undefined, {
    signal: controller.signal,
  }).catch((e) => e);
  while (misp.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  controller.abort(new Error("run deadline passed"));
  const error = await pending;
  assert.ok(error instanceof MispError);
  assert.equal(misp.requests.length, 1);
  assert.equal(error.kind, "wire");
  assert.match(error.message, /failed on the wire: aborted: Error: run deadline passed/);
});
