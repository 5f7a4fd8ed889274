import assert from "node:assert/strict";
import { ensureAdminToken } from "../../store/admin_token.ts";
import { startFlowgate } from "../fixtures/flowgate_process.ts";

const NOTICE =
  "FLOWGATE_ADMIN_TOKEN replaces the admin token stored in the KV: the old one no longer works";

Deno.test("Flowgate says at start that FLOWGATE_ADMIN_TOKEN replaced the stored token", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flowgate-token-" });
  const kvPath = `${dir}/flowgate.kv`;
  try {
    const kv = await Deno.openKv(kvPath);
    const { token: generated } = await ensureAdminToken(kv);
    kv.close();
    assert.ok(generated);

    const first = await startFlowgate({ kvPath, adminToken: "configured-admin-token-0123" });
    await first.stop();
    const line = first.logs().split("\n").find((text) => text.includes(NOTICE));
    assert.ok(line, first.logs());
    const entry = JSON.parse(line);
    assert.equal(entry.replaced, "generated");
    assert.match(entry.replaced_created_at, /^\d{4}-\d\d-\d\dT/);
    assert.ok(!first.logs().includes("configured-admin-token-0123"), "the token is not logged");

    const second = await startFlowgate({ kvPath, adminToken: "configured-admin-token-0123" });
    await second.stop();
    assert.ok(!second.logs().includes(NOTICE), "the same token again: no notice");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
