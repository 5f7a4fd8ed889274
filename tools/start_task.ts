/**
 * `deno task start` as data: the environment assignments and `deno run` flags of deno.json's
 * `start` task (`[VAR=value ...] deno run <flags> main.ts`), for the tests and the benchmark that
 * start `main.ts` exactly as the task does.
 *
 * @module
 */

/** The start task of a checkout: what it puts in the environment and passes to `deno run`. */
export interface StartTask {
  env: Record<string, string>;
  /** Permissions and unstable features, with relative paths meant for the project folder. */
  flags: string[];
}

/** Reads the start task of the checkout at `root` (a folder URL or path). */
export function readStartTask(root: URL | string): StartTask {
  const folder = typeof root === "string" ? root.replace(/\/?$/, "/") : root;
  const path = typeof folder === "string" ? `${folder}deno.json` : new URL("deno.json", folder);
  const config = JSON.parse(Deno.readTextFileSync(path));
  const words = String(config.tasks?.start ?? "").split(/\s+/).filter((word) => word !== "");
  const env: Record<string, string> = {};
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0] ?? "")) {
    const word = words.shift()!;
    const at = word.indexOf("=");
    env[word.slice(0, at)] = word.slice(at + 1);
  }
  if (words[0] !== "deno" || words[1] !== "run" || words.at(-1) !== "main.ts") {
    throw new Error(
      `${path}'s "start" task is not "[VAR=value ...] deno run <flags> main.ts": ` +
        JSON.stringify(config.tasks?.start),
    );
  }
  return { env, flags: words.slice(2, -1) };
}
