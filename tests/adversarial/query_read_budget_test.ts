/**
 * The `/query` read budget (issue 12) against a real Flowgate process: senders that announce the
 * largest body MISP may send and stall must not hold the budget the real verdicts wait for.
 */

import assert from "node:assert/strict";
import { startFlowgate } from "../fixtures/flowgate_process.ts";
import { exampleTlpRedWorkflow, queryBody, readAnswer, tlpRedEvent } from "./harness.ts";

const ADMIN_TOKEN = "read-budget-admin-token-0123456789";
/** The default `FLOWGATE_MAX_BODY_BYTES`: the largest body `/query` reads. */
const DECLARED_BYTES = 33_554_432;
const STALLED_SENDERS = 30;

Deno.test({
  name: "a tlp:red verdict is reached while 30 senders stall on 32 MiB /query bodies",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "flowgate-read-budget-" });
    await using server = await startFlowgate({
      kvPath: `${dir}/flowgate.kv`,
      adminToken: ADMIN_TOKEN,
    });
    const stalled: Deno.TcpConn[] = [];
    /** Stalled senders the server already answered (refused, timed out). */
    const answered = new Set<number>();
    try {
      const created = await fetch(`${server.url}/api/workflows`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${ADMIN_TOKEN}`,
          "Content-Type": "application/yaml",
        },
        body: await exampleTlpRedWorkflow(),
      });
      assert.equal(created.status, 201, await created.text());
      for (let i = 0; i < STALLED_SENDERS; i++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
        const head =
          `POST /query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${DECLARED_BYTES}\r\n\r\n{`;
        await conn.write(new TextEncoder().encode(head));
        stalled.push(conn);
        const index = i;
        conn.read(new Uint8Array(1_024)).then(() => answered.add(index), () => answered.add(index));
      }
      const answer = await readAnswer(
        await fetch(`${server.url}/query`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: queryBody("flowgate_event_publish", await tlpRedEvent()),
        }),
      );
      // Before any stalled sender is answered (at the 10 s body idle timeout, or refused after 8
      // s in the budget's queue): the verdict did not wait for them to give up.
      assert.equal(answered.size, 0, "the verdict came only once stalled senders were answered");
      assert.equal(answer.status, 200, answer.text);
      const error = String(JSON.parse(answer.text).error ?? "");
      assert.doesNotMatch(error, /overloaded/, "the verdict waited behind the stalled senders");
      assert.match(error, /tlp:red|TLP:RED|red/i, `a block by the workflow, got ${answer.text}`);
    } finally {
      for (const conn of stalled) {
        try {
          conn.close();
        } catch {
          // Closed by the server already.
        }
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
