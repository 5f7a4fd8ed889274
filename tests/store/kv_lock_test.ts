import assert from "node:assert/strict";
import {
  acquireKvLock,
  isLocalKvPath,
  KV_LOCK_SUFFIX,
  KvLockedError,
} from "../../store/kv_lock.ts";
import { startFlowgate } from "../fixtures/flowgate_process.ts";
import { readStartTaskFlags } from "../../tools/start_task.ts";

const ADMIN_TOKEN = "kv-lock-admin-token-0123456789";

Deno.test("acquireKvLock() holds the local KV file for one holder at a time", async (t) => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/flowgate.kv`;
  try {
    await t.step("a second holder is refused with the first one's pid", async () => {
      using lock = await acquireKvLock(kvPath);
      assert.equal(lock?.lockPath, `${kvPath}${KV_LOCK_SUFFIX}`);
      await assert.rejects(() => acquireKvLock(kvPath), (error: unknown) => {
        assert.ok(error instanceof KvLockedError);
        assert.equal(error.pid, Deno.pid);
        assert.equal(error.path, kvPath);
        assert.equal(
          error.message,
          `Another Flowgate process is using ${kvPath} (pid ${Deno.pid}): stop it, or set ` +
            "FLOWGATE_KV to another file",
        );
        return true;
      });
    });
    await t.step("released, it can be taken again; releasing twice is harmless", async () => {
      const lock = await acquireKvLock(kvPath);
      lock?.release();
      lock?.release();
      const again = await acquireKvLock(kvPath);
      assert.ok(again);
      again.release();
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("acquireKvLock() locks nothing for :memory:, remote URLs and the platform KV", async () => {
  for (const path of [undefined, "", ":memory:", "https://api.deno.com/databases/x/connect"]) {
    assert.equal(isLocalKvPath(path), false);
    assert.equal(await acquireKvLock(path), null);
  }
  assert.equal(isLocalKvPath("data/flowgate.kv"), true);
});

/** Runs `main.ts` as `deno task start` does, on `kvPath`; resolves with its exit code and log. */
async function runStart(kvPath: string): Promise<{ code: number; stderr: string }> {
  const flags = readStartTaskFlags(new URL("../../", import.meta.url));
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "main.ts"],
    cwd: new URL("../../", import.meta.url).pathname,
    env: { PORT: String(port), FLOWGATE_KV: kvPath, FLOWGATE_ADMIN_TOKEN: ADMIN_TOKEN },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test({
  name:
    "a second Flowgate process on the same KV file exits with code 2; after kill -9 a new one starts",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const kvPath = `${dir}/flowgate.kv`;
    try {
      const first = await startFlowgate({ kvPath, adminToken: ADMIN_TOKEN });
      try {
        const second = await runStart(kvPath);
        assert.equal(second.code, 2, second.stderr);
        const line = second.stderr.split("\n").map((text) => text.trim()).filter((text) =>
          text.startsWith("{")
        )
          .map((text) => JSON.parse(text) as Record<string, unknown>)
          .find((entry) => entry.level === "error");
        assert.match(
          String(line?.message),
          new RegExp(
            `^Another Flowgate process is using ${kvPath} \\(pid \\d+\\): stop it, or set ` +
              "FLOWGATE_KV to another file$",
          ),
        );
        const health = await fetch(`${first.url}/healthz`);
        assert.equal(health.status, 200, "the first process keeps running");
        await health.body?.cancel();
      } finally {
        await first.kill9();
      }
      await using third = await startFlowgate({ kvPath, adminToken: ADMIN_TOKEN });
      const health = await fetch(`${third.url}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
