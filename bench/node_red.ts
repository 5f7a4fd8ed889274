/**
 * Node-RED as a comparison target of the HTTP benchmark: `node-red@4.1.15` installed with npm into
 * a temporary prefix (kept between runs), started with a flow doing what Flowgate's gate does for
 * MISP's `/query` (http in → a function node checking the `tlp:red` event tag → http response).
 * Skipped, with the reason, when `node` or `npm` is missing or the install fails.
 *
 * @module
 */

import { freePort, waitForHttp } from "./bench_process.ts";

/** The Node-RED version compared against (the one the issue measured). */
export const NODE_RED_VERSION = "4.1.15";

/** A running Node-RED, or why there is none. */
export type NodeRedStart =
  | { ok: true; url: string; pid: number; stop: () => Promise<void> }
  | { ok: false; reason: string };

/** The function node's body: MISP's `/query` answer from the `tlp:red` event tag. */
const CHECK_FUNCTION = `
const event = msg.payload && msg.payload.data && msg.payload.data.Event;
const tags = event && Array.isArray(event.Tag) ? event.Tag : [];
msg.payload = tags.some((tag) => tag && tag.name === "tlp:red")
  ? { error: "Blocked: the event is tlp:red" }
  : { data: true };
return msg;
`;

const FLOW = [
  { id: "bench_tab", type: "tab", label: "Flowgate bench" },
  {
    id: "bench_in",
    type: "http in",
    z: "bench_tab",
    url: "/query",
    method: "post",
    upload: false,
    swaggerDoc: "",
    wires: [["bench_check"]],
  },
  {
    id: "bench_check",
    type: "function",
    z: "bench_tab",
    name: "tlp:red gate",
    func: CHECK_FUNCTION,
    outputs: 1,
    wires: [["bench_out"]],
  },
  { id: "bench_out", type: "http response", z: "bench_tab", statusCode: "", wires: [] },
];

/** Installs (once) and starts Node-RED with the gate flow on a free loopback port. */
export async function startNodeRed(options: { prefix: string }): Promise<NodeRedStart> {
  const redJs = `${options.prefix}/node_modules/node-red/red.js`;
  for (const tool of ["node", "npm"]) {
    if (!(await succeeds(tool, ["--version"]))) {
      return { ok: false, reason: `\`${tool}\` is not installed` };
    }
  }
  if (!(await exists(redJs))) {
    await Deno.mkdir(options.prefix, { recursive: true });
    const install = await new Deno.Command("npm", {
      args: [
        "install",
        "--prefix",
        options.prefix,
        "--no-audit",
        "--no-fund",
        "--omit=optional",
        `node-red@${NODE_RED_VERSION}`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!install.success || !(await exists(redJs))) {
      const why = new TextDecoder().decode(install.stderr).trim().split("\n").slice(-3).join(" ");
      return { ok: false, reason: `npm install node-red@${NODE_RED_VERSION} failed: ${why}` };
    }
  }
  const userDir = await Deno.makeTempDir({ prefix: "flowgate-bench-node-red-user-" });
  const port = freePort();
  await Deno.writeTextFile(`${userDir}/flows.json`, JSON.stringify(FLOW));
  await Deno.writeTextFile(
    `${userDir}/settings.js`,
    `module.exports = ${
      JSON.stringify({
        uiHost: "127.0.0.1",
        uiPort: port,
        flowFile: "flows.json",
        credentialSecret: false,
        httpAdminRoot: false,
        apiMaxLength: "64mb",
        logging: { console: { level: "warn", metrics: false, audit: false } },
        editorTheme: { tours: false },
      })
    };\n`,
  );
  const child = new Deno.Command("node", {
    args: [redJs, "--userDir", userDir, "--settings", `${userDir}/settings.js`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    await Deno.remove(userDir, { recursive: true }).catch(() => {});
  };
  try {
    // Node-RED answers 404 on unknown paths once listening; the flow answers POST /query.
    await waitForHttp(`${url}/query`, { method: "POST", body: '{"data":{}}', what: "Node-RED" });
  } catch (error) {
    await stop();
    return { ok: false, reason: (error as Error).message };
  }
  return { ok: true, url, pid: child.pid, stop };
}

async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
