import assert from "node:assert/strict";
import {
  bearerToken,
  constantTimeEquals,
  isAddressAllowed,
  parseAllowlist,
  remoteAddress,
} from "../../server/auth.ts";

Deno.test("isAddressAllowed() matches CIDRs, plain addresses and IPv4-mapped IPv6", async (t) => {
  const allow = parseAllowlist(["127.0.0.1/8", "::1", "10.20.0.0/16", "192.0.2.7"]);
  await t.step("inside", () => {
    for (
      const address of [
        "127.0.0.1",
        "127.9.9.9",
        "::1",
        "10.20.3.4",
        "192.0.2.7",
        "::ffff:10.20.1.1",
      ]
    ) {
      assert.ok(isAddressAllowed(address, allow), address);
    }
  });
  await t.step("outside or not an address", () => {
    for (const address of ["10.21.0.1", "192.0.2.8", "::2", "fe80::1", "example.org", ""]) {
      assert.ok(!isAddressAllowed(address, allow), address);
    }
  });
});

Deno.test("remoteAddress() believes X-Forwarded-For only from a trusted proxy", async (t) => {
  const proxies = parseAllowlist(["10.0.0.5"]);
  await t.step("no trusted proxies: the connection's address", () => {
    assert.equal(remoteAddress("192.0.2.1", "127.0.0.1", []), "192.0.2.1");
  });
  await t.step("untrusted peer: the header is ignored", () => {
    assert.equal(remoteAddress("192.0.2.1", "127.0.0.1", proxies), "192.0.2.1");
  });
  await t.step("trusted proxy: the nearest untrusted hop", () => {
    assert.equal(remoteAddress("10.0.0.5", "198.51.100.9, 203.0.113.4", proxies), "203.0.113.4");
    assert.equal(remoteAddress("10.0.0.5", "203.0.113.4, 10.0.0.5", proxies), "203.0.113.4");
  });
});

Deno.test("constantTimeEquals() and bearerToken()", async () => {
  assert.equal(await constantTimeEquals("secret-value", "secret-value"), true);
  assert.equal(await constantTimeEquals("secret-value", "secret-valuf"), false);
  assert.equal(await constantTimeEquals("", "secret-value"), false);
  assert.equal(bearerToken("Bearer abc.def"), "abc.def");
  assert.equal(bearerToken("bearer   xyz "), "xyz");
  assert.equal(bearerToken("Basic abc"), undefined);
  assert.equal(bearerToken(undefined), undefined);
});
