/** @module `deno task backup [file]`: writes the KV store (`FLOWGATE_KV`) as a JSON-lines backup to a file or stdout. */

import { exportBackup } from "../store/backup.ts";
import { parseArgs, printError, runCli, UsageError } from "./cli_support.ts";
import { describeKv, KV_HELP, kvExists, kvPathFromEnv } from "./kv_path.ts";

const USAGE = "Usage: backup [file] (stdout when no file is given)";

const HELP = `${USAGE}

Writes the KV store (workflows with their versions, runs, approvals, audit) as JSON lines.

Options:
  --help, -h  this help

${KV_HELP}`;

async function main(): Promise<number> {
  const args = parseArgs(Deno.args, { help: HELP });
  const [file, ...extra] = args.positional;
  if (extra.length > 0) throw new UsageError(USAGE);
  const path = kvPathFromEnv();
  if (!(await kvExists(path))) {
    throw new UsageError(`Cannot back up the KV ${describeKv(path)}: no KV store there`);
  }
  using kv = await Deno.openKv(path);
  const output = file === undefined
    ? Deno.stdout.writable
    : (await Deno.open(file, { write: true, create: true, truncate: true })).writable;
  let last = "";
  const lines = ReadableStream.from(exportBackup(kv)).pipeThrough(
    new TransformStream<string, string>({
      transform(line, controller) {
        last = line;
        controller.enqueue(`${line}\n`);
      },
    }),
  );
  await lines.pipeThrough(new TextEncoderStream()).pipeTo(output, { preventClose: !file });
  const { counts } = JSON.parse(last) as { counts: Record<string, number> };
  const summary = Object.entries(counts).map(([type, count]) => `${count} ${type}`).join(", ");
  printError(`Backed up ${summary} from the KV ${describeKv(path)}${file ? ` to "${file}"` : ""}`);
  return 0;
}

if (import.meta.main) await runCli(main);
