import assert from "node:assert/strict";
import {
  apiRootOf,
  createOutboundFetch,
  OutboundBlockedError,
  parseOutboundAllow,
} from "../../../modules/action/lib/outbound.ts";
import { TransientError } from "../../../engine/module_errors.ts";
import { startWebhookSink } from "../../fakes/webhook_sink.ts";

const TLS = {
  cert: await Deno.readTextFile(new URL("../../fakes/tls/cert.pem", import.meta.url)),
  key: await Deno.readTextFile(new URL("../../fakes/tls/key.pem", import.meta.url)),
};

/** Names the tests resolve without DNS. */
const NAMES: Record<string, string[]> = {
  "flowgate.test": ["127.0.0.1"],
  "intranet.test": ["10.1.2.3"],
  "metadata.test": ["169.254.169.254"],
  "mixed.test": ["93.184.216.34", "192.168.1.10"],
  "mapped.test": ["::ffff:127.0.0.1"],
};

function resolveName(hostname: string): Promise<string[]> {
  return Promise.resolve(NAMES[hostname] ?? []);
}

Deno.test("createOutboundFetch() sends the request and reads the answer", async () => {
  await using sink = startWebhookSink();
  sink.reply({ status: 201, body: "créé", headers: { "x-answer": "1" } });
  const fetch = createOutboundFetch({ allow: ["127.0.0.1/32"] });
  const response = await fetch({
    method: "POST",
    url: `${sink.url}/hook?a=1`,
    headers: { "Content-Type": "application/json", "X-Custom": "yes" },
    body: '{"é":1}',
  });
  assert.equal(response.status, 201);
  assert.equal(response.headers.get("x-answer"), "1");
  assert.equal(response.body, "créé");
  assert.equal(response.truncated, false);
  const [request] = sink.requests;
  assert.equal(request?.method, "POST");
  assert.equal(request?.path, "/hook");
  assert.equal(request?.search, "?a=1");
  assert.equal(request?.headers["content-type"], "application/json");
  assert.equal(request?.headers["x-custom"], "yes");
  assert.equal(request?.headers["content-length"], "8");
  assert.equal(request?.body, '{"é":1}');
});

Deno.test("createOutboundFetch() refuses private, loopback and special addresses", async (t) => {
  await using sink = startWebhookSink();
  const fetch = createOutboundFetch({ allow: [], resolve: resolveName });
  const refused: [string, RegExp][] = [
    [`${sink.url}/x`, /127\.0\.0\.1 is a loopback address; allow it with FLOWGATE_OUTBOUND_ALLOW$/],
    [
      "http://10.0.0.1/x",
      /^Refused to call "http:\/\/10\.0\.0\.1\/x": 10\.0\.0\.1 is a private address; allow it with FLOWGATE_OUTBOUND_ALLOW$/,
    ],
    ["http://172.16.5.4/", /a private address/],
    ["http://192.168.0.1/", /a private address/],
    ["http://169.254.169.254/latest/meta-data/", /a cloud metadata address/],
    ["http://169.254.1.1/", /a link-local address/],
    ["http://100.64.0.1/", /a carrier-grade NAT address/],
    ["http://0.0.0.0/", /an unspecified address/],
    ["http://224.0.0.1/", /a multicast address/],
    ["http://[::1]/", /::1 is a loopback address/],
    ["http://[::ffff:127.0.0.1]/", /a loopback address/],
    ["http://[::ffff:10.0.0.1]/", /a private address/],
    ["http://[fd00:ec2::254]/", /a cloud metadata address/],
    ["http://[fc00::1]/", /a private \(unique local\) address/],
    ["http://[fe80::1]/", /a link-local address/],
    ["http://[::]/", /an unspecified address/],
    ["http://[2002:7f00:1::]/", /special-purpose address \("6to4"\)/],
    ["http://[64:ff9b::a00:1]/", /special-purpose address \("rfc6052"\)/],
    ["http://intranet.test/x", /intranet\.test resolves to 10\.1\.2\.3, a private address/],
    ["http://metadata.test/", /resolves to 169\.254\.169\.254, a cloud metadata address/],
    ["http://mixed.test/", /resolves to 192\.168\.1\.10, a private address/],
    ["http://mapped.test/", /resolves to ::ffff:127\.0\.0\.1, a loopback address/],
    ["ftp://example.com/x", /only http and https URLs are allowed/],
    ["file:///etc/passwd", /only http and https URLs are allowed/],
  ];
  for (const [url, message] of refused) {
    await t.step(url, async () => {
      await assert.rejects(
        fetch({ method: "GET", url }),
        (error: unknown) => error instanceof OutboundBlockedError && message.test(error.message),
      );
    });
  }
  assert.equal(sink.requests.length, 0);
});

Deno.test("createOutboundFetch() refuses credentials in URLs without echoing them", async () => {
  const fetch = createOutboundFetch({ allow: [] });
  await assert.rejects(
    fetch({ method: "GET", url: "https://user:hunter22@example.com/x" }),
    (error: unknown) => {
      assert.ok(error instanceof OutboundBlockedError);
      assert.equal(
        error.message,
        'Refused to call "https://[redacted]@example.com/x": credentials in URLs are not allowed',
      );
      return true;
    },
  );
});

Deno.test("createOutboundFetch() reaches an address inside the allow list", async (t) => {
  await using sink = startWebhookSink();
  await t.step("a CIDR range", async () => {
    const fetch = createOutboundFetch({ allow: parseOutboundAllow(" 127.0.0.0/8 , 10.0.0.0/8") });
    assert.equal((await fetch({ method: "GET", url: sink.url })).status, 200);
  });
  await t.step("a name resolving into the range, connected to the checked address", async () => {
    const fetch = createOutboundFetch({ allow: ["127.0.0.1"], resolve: resolveName });
    const response = await fetch({ method: "GET", url: `http://flowgate.test:${sink.port}/n` });
    assert.equal(response.status, 200);
    assert.equal(sink.requests.at(-1)?.headers.host, `flowgate.test:${sink.port}`);
  });
  await t.step("a bad entry is refused at creation", () => {
    assert.throws(
      () => createOutboundFetch({ allow: ["10.0.0.0/99"] }),
      /Cannot read FLOWGATE_OUTBOUND_ALLOW: "10\.0\.0\.0\/99" is not an address or CIDR range/,
    );
  });
});

Deno.test("createOutboundFetch() checks every redirect hop", async (t) => {
  await using sink = startWebhookSink();
  const fetch = createOutboundFetch({ allow: ["127.0.0.1/32"], resolve: resolveName });
  await t.step("a redirect to a private address is refused", async () => {
    sink.reply({ redirectTo: "http://169.254.169.254/latest/meta-data/" });
    await assert.rejects(
      fetch({ method: "GET", url: `${sink.url}/start` }),
      (error: unknown) =>
        error instanceof OutboundBlockedError &&
        /169\.254\.169\.254 is a cloud metadata address/.test(error.message),
    );
  });
  await t.step("a redirect to a name resolving privately is refused", async () => {
    sink.reply({ redirectTo: "http://intranet.test/admin" });
    await assert.rejects(fetch({ method: "GET", url: `${sink.url}/start` }), OutboundBlockedError);
  });
  await t.step("allowed redirects are followed; a 302 after POST becomes GET", async () => {
    sink.requests.length = 0;
    let hops = 0;
    sink.reply((request) => hops++ < 2 ? { redirectTo: `/hop${hops}` } : { body: request.path });
    const response = await fetch({
      method: "POST",
      url: `${sink.url}/start`,
      headers: { "Content-Type": "text/plain" },
      body: "payload",
    });
    assert.equal(response.body, "/hop2");
    assert.deepEqual(
      sink.requests.map((request) => [request.method, request.path, request.body]),
      [["POST", "/start", "payload"], ["GET", "/hop1", ""], ["GET", "/hop2", ""]],
    );
  });
  await t.step("more than five redirects are refused", async () => {
    sink.reply({ redirectTo: "/again" });
    await assert.rejects(
      fetch({ method: "GET", url: `${sink.url}/again` }),
      /more than 5 redirects/,
    );
  });
});

Deno.test("createOutboundFetch() gives up on a slow peer with a TransientError", async () => {
  await using sink = startWebhookSink();
  sink.reply({ delayMs: 5_000 });
  const fetch = createOutboundFetch({ allow: ["127.0.0.1/32"], timeoutMs: 150 });
  await assert.rejects(
    fetch({ method: "GET", url: `${sink.url}/slow` }),
    (error: unknown) =>
      error instanceof TransientError &&
      error.message === `Cannot call "${sink.url}/slow": no answer within 150 ms`,
  );
});

Deno.test("createOutboundFetch() times out a peer that trickles its body", async () => {
  await using sink = startWebhookSink();
  sink.reply({ trickleMs: 20 });
  const fetch = createOutboundFetch({ allow: ["127.0.0.1/32"], timeoutMs: 200 });
  await assert.rejects(
    fetch({ method: "GET", url: `${sink.url}/drip` }),
    (error: unknown) =>
      error instanceof TransientError && /no answer within 200 ms/.test(error.message),
  );
});

Deno.test("createOutboundFetch() cuts an oversized answer at the cap", async () => {
  await using sink = startWebhookSink();
  sink.reply({ hugeBytes: 20_000_000 });
  const fetch = createOutboundFetch({ allow: ["127.0.0.1/32"], maxResponseBytes: 100_000 });
  const response = await fetch({ method: "GET", url: `${sink.url}/huge` });
  assert.equal(response.truncated, true);
  assert.equal(response.body.length, 100_000);
  const small = await fetch({
    method: "GET",
    url: `${sink.url}/huge`,
    maxResponseBytes: 30_000_000,
  });
  assert.equal(small.truncated, false);
  assert.equal(small.body.length, 20_000_000);
});

Deno.test("createOutboundFetch() reports a refused connection as a TransientError", async () => {
  const sink = startWebhookSink();
  const url = `${sink.url}/gone`;
  await sink.close();
  const fetch = createOutboundFetch({ allow: ["127.0.0.1/32"] });
  await assert.rejects(
    fetch({ method: "GET", url }),
    (error: unknown) =>
      error instanceof TransientError &&
      error.message === `Cannot call "${url}": connection refused`,
  );
});

Deno.test("createOutboundFetch() verifies TLS unless self-signed certificates are allowed", async (t) => {
  await using sink = startWebhookSink({ tls: TLS });
  const fetch = createOutboundFetch({ allow: ["127.0.0.1/32"], resolve: resolveName });
  const url = `https://flowgate.test:${sink.port}/tls`;
  await t.step("refused by default, and not as a transient error", async () => {
    await assert.rejects(fetch({ method: "GET", url }), (error: unknown) => {
      assert.ok(error instanceof Error && !(error instanceof TransientError));
      assert.match(error.message, /TLS certificate refused/);
      return true;
    });
    assert.equal(sink.requests.length, 0);
  });
  await t.step("accepted for this call with allowSelfSigned", async () => {
    const response = await fetch({ method: "GET", url, allowSelfSigned: true });
    assert.equal(response.status, 200);
    assert.equal(sink.requests[0]?.headers.host, `flowgate.test:${sink.port}`);
  });
  await t.step("the next call verifies again", async () => {
    await assert.rejects(fetch({ method: "GET", url }), /TLS certificate refused/);
  });
});

Deno.test("apiRootOf() takes the injected root, then the environment, then the fallback", async (t) => {
  const envName = "FLOWGATE_TEST_API_ROOT";
  const fallback = "https://api.example";
  await t.step("the injected root wins, trailing slashes dropped", () => {
    Deno.env.set(envName, "https://env.example");
    try {
      assert.equal(
        apiRootOf("http://127.0.0.1:8080//", { envName, fallback }),
        "http://127.0.0.1:8080",
      );
    } finally {
      Deno.env.delete(envName);
    }
  });
  await t.step("then the environment variable", () => {
    Deno.env.set(envName, "https://env.example/");
    try {
      assert.equal(apiRootOf(undefined, { envName, fallback }), "https://env.example");
    } finally {
      Deno.env.delete(envName);
    }
  });
  await t.step("then the fallback", () => {
    assert.equal(apiRootOf(undefined, { envName, fallback }), fallback);
  });
});
