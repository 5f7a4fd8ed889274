/**
 * Runs a `deno` command line from the project root, as a user would type it, and collects its
 * exit code and output: the command-line tests drive `cli/*.ts` and `deno task …` through it.
 *
 * @module
 */

/** The project root (where deno.json is). */
export const ROOT = new URL("../../", import.meta.url);

/** How a command ended: its exit code and what it wrote. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of `runDeno`. */
export interface RunDenoOptions {
  /** Variables added to the inherited environment (or the only ones, with `clearEnv`). */
  env?: Record<string, string>;
  /** Start from an empty environment. */
  clearEnv?: boolean;
  /** Working directory (default the project root). */
  cwd?: string;
}

/** Runs `deno <args>` and waits for it to end. */
export async function runDeno(args: string[], options: RunDenoOptions = {}): Promise<CliRun> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd ?? ROOT.pathname,
    ...(options.env ? { env: options.env } : {}),
    ...(options.clearEnv ? { clearEnv: true } : {}),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
