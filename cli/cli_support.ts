/**
 * What the command-line tools share: argument parsing with `--help`, output lines, one-line
 * failures and the exit codes.
 *
 * @module
 */

/** Exit code for bad input (unreadable file, broken YAML, unknown trigger…). */
export const EXIT_BAD_INPUT = 2;

/** A problem with what the user gave the command; reported as one line, exit code 2. */
export class UsageError extends Error {
  /** `message` is the whole line shown to the user. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** `--help` or `-h` was given: `message` is the command's help, printed to stdout with exit 0. */
export class HelpRequest extends Error {
  /** `help` is the command's whole help text. */
  constructor(help: string) {
    super(help);
    this.name = "HelpRequest";
  }
}

/** Parsed command line: positional arguments, `--name value` options and `--flag` switches. */
export interface ParsedArgs {
  positional: string[];
  options: Map<string, string>;
  flags: Set<string>;
}

/** Which names take a value and which are switches; anything else is refused. */
export interface ArgSpec {
  options?: string[];
  flags?: string[];
  /** The command's help: usage line, what it does, its options and environment (`--help`). */
  help: string;
}

/**
 * Parses `args` against `spec` (`--name value` or `--name=value`).
 *
 * @throws {HelpRequest} when `--help` or `-h` is among the arguments
 * @throws {UsageError} for an unknown option or an option without its value
 */
export function parseArgs(args: string[], spec: ArgSpec): ParsedArgs {
  if (args.includes("--help") || args.includes("-h")) throw new HelpRequest(spec.help);
  const parsed: ParsedArgs = { positional: [], options: new Map(), flags: new Set() };
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (!arg.startsWith("--")) {
      parsed.positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (spec.flags?.includes(name) && inline === undefined) {
      parsed.flags.add(name);
    } else if (spec.options?.includes(name)) {
      const value = inline ?? args[++index];
      if (value === undefined) throw new UsageError(`Option "--${name}" needs a value`);
      parsed.options.set(name, value);
    } else {
      throw new UsageError(`Unknown option "${arg}" (see --help)`);
    }
  }
  return parsed;
}

/** Reads a text file, turning a missing or unreadable file into a `UsageError`. */
export async function readInput(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`Cannot read ${what} "${path}": ${reason}`, { cause: error });
  }
}

const encoder = new TextEncoder();

function writeAll(stream: { writeSync(bytes: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  // writeSync may write part of the buffer to a pipe: loop until everything is out.
  for (let written = 0; written < bytes.length;) {
    written += stream.writeSync(bytes.subarray(written));
  }
}

/** Writes `text` and a newline to standard output. */
export function printLine(text: string): void {
  writeAll(Deno.stdout, `${text}\n`);
}

/** Writes `text` and a newline to standard error. */
export function printError(text: string): void {
  writeAll(Deno.stderr, `${text}\n`);
}

/** `text` on one line (newlines become spaces), for one-line error reports. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/**
 * Runs a command's `main`: its resolved value is the exit code; `--help` prints the help with exit
 * code 0; any other thrown error becomes one line on standard error and exit code 2, never a stack
 * trace.
 */
export async function runCli(main: () => Promise<number>): Promise<never> {
  let code: number;
  try {
    code = await main();
  } catch (error) {
    if (error instanceof HelpRequest) {
      printLine(error.message);
      Deno.exit(0);
    }
    const message = error instanceof Error ? error.message : String(error);
    printError(`Error: ${oneLine(message)}`);
    code = EXIT_BAD_INPUT;
  }
  Deno.exit(code);
}
