/** @module `deno task restore <file>`: restores a JSON-lines backup into the KV store (`FLOWGATE_KV`); idempotent. */

import { dirname } from "node:path";
import { importBackup } from "../store/backup.ts";
import { parseArgs, printLine, runCli, UsageError } from "./cli_support.ts";
import { describeKv, KV_HELP, kvPathFromEnv } from "./kv_path.ts";

const USAGE = 'Usage: restore <file> ("-" reads stdin)';

const HELP = `${USAGE}

Restores a backup written by \`deno task backup\` into the KV store; running it twice changes
nothing more.

Options:
  --help, -h  this help

${KV_HELP}`;

async function main(): Promise<number> {
  const args = parseArgs(Deno.args, { help: HELP });
  const [file, ...extra] = args.positional;
  if (file === undefined || extra.length > 0) throw new UsageError(USAGE);
  const input = file === "-" ? Deno.stdin.readable : await openFile(file);
  const path = kvPathFromEnv();
  if (!/^https?:/.test(path)) await Deno.mkdir(dirname(path), { recursive: true });
  using kv = await Deno.openKv(path);
  const counts = await importBackup(kv, readLines(input.pipeThrough(new TextDecoderStream())));
  const summary = Object.entries(counts).map(([type, count]) => `${count} ${type}`).join(", ");
  printLine(`Restored ${summary} into the KV ${describeKv(path)}`);
  return 0;
}

async function openFile(file: string): Promise<ReadableStream<Uint8Array>> {
  try {
    return (await Deno.open(file)).readable;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`Cannot read backup "${file}": ${reason}`, { cause: error });
  }
}

/** Splits a text stream into lines (without their `\n` or `\r\n`). */
async function* readLines(stream: ReadableStream<string>): AsyncGenerator<string> {
  let buffer = "";
  for await (const text of stream) {
    buffer += text;
    let start = 0;
    for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n", start)) {
      yield buffer.slice(start, end).replace(/\r$/, "");
      start = end + 1;
    }
    buffer = buffer.slice(start);
  }
  if (buffer.length > 0) yield buffer;
}

if (import.meta.main) await runCli(main);
