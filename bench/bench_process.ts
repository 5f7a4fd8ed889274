/**
 * The servers the HTTP benchmark compares, each started as its own process on a free loopback
 * port: the floor (`floor_server.ts`) and Flowgate from a checkout (this one, or another one for
 * a before/after comparison), started with the flags of `deno task start`.
 *
 * @module
 */

import { readStartTaskFlags } from "../tools/start_task.ts";

const FLOOR_SERVER = new URL("./floor_server.ts", import.meta.url).pathname;

/** A benchmarked server process. */
export interface BenchServer {
  url: string;
  pid: number;
  /** Sends SIGTERM (a clean exit, which writes a CPU profile when one was asked) and waits. */
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Polls `url` until it answers below 500; throws after `timeoutMs` (default 60 s). */
export async function waitForHttp(
  url: string,
  options: { method?: string; body?: string; what: string; timeoutMs?: number },
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    try {
      const response = await fetch(url, {
        method: options.method ?? "GET",
        ...(options.body === undefined
          ? {}
          : { body: options.body, headers: { "Content-Type": "application/json" } }),
      });
      await response.body?.cancel();
      if (response.status < 500) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${options.what} did not answer ${url} within ${options.timeoutMs ?? 60_000} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function serverOf(
  child: Deno.ChildProcess,
  url: string,
  cleanup?: () => Promise<void>,
): BenchServer {
  let exited = false;
  const status = child.status.then((value) => {
    exited = true;
    return value;
  });
  return {
    url,
    pid: child.pid,
    async stop() {
      if (!exited) child.kill("SIGTERM");
      const timer = setTimeout(() => !exited && child.kill("SIGKILL"), 15_000);
      await status;
      clearTimeout(timer);
      await cleanup?.();
    },
  };
}

/** Starts the floor server. */
export async function startFloor(): Promise<BenchServer> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", FLOOR_SERVER, String(port)],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const server = serverOf(child, `http://127.0.0.1:${port}`);
  await waitForHttp(`${server.url}/healthz`, { what: "The floor server" });
  return server;
}

/** Options of `startFlowgateAt`. */
export interface FlowgateAtOptions {
  /** The checkout whose `main.ts` runs. */
  root: string;
  adminToken: string;
  hookToken: string;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Extra `deno run` flags before `main.ts` (e.g. `--cpu-prof`). */
  denoFlags?: string[];
}

/**
 * Starts Flowgate's `main.ts` from `options.root` with the flags of its `deno task start` on a
 * fresh temporary KV; stopping it removes the KV.
 */
export async function startFlowgateAt(options: FlowgateAtOptions): Promise<BenchServer> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "flowgate-bench-kv-" });
  const flags = readStartTaskFlags(options.root);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, ...(options.denoFlags ?? []), `${options.root}/main.ts`],
    cwd: options.root,
    env: {
      PORT: String(port),
      FLOWGATE_KV: `${dir}/flowgate.kv`,
      FLOWGATE_ADMIN_TOKEN: options.adminToken,
      FLOWGATE_HOOK_TOKEN: options.hookToken,
      FLOWGATE_LOG_LEVEL: "warn",
      ...options.env,
    },
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const server = serverOf(
    child,
    `http://127.0.0.1:${port}`,
    () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  );
  try {
    await waitForHttp(`${server.url}/healthz`, { what: `Flowgate (${options.root})` });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}
