/**
 * `deno task start` as data: the `deno run` flags of deno.json's `start` task
 * (`deno run <flags> main.ts`), for the tests and the benchmark that start `main.ts` exactly as the
 * task does.
 *
 * @module
 */

/**
 * The flags of the start task of the checkout at `root` (a folder URL or path): permissions and
 * unstable features, with relative paths meant for the project folder.
 */
export function readStartTaskFlags(root: URL | string): string[] {
  const folder = typeof root === "string" ? root.replace(/\/?$/, "/") : root;
  const path = typeof folder === "string" ? `${folder}deno.json` : new URL("deno.json", folder);
  const config = JSON.parse(Deno.readTextFileSync(path));
  const words = String(config.tasks?.start ?? "").split(/\s+/).filter((word) => word !== "");
  if (words[0] !== "deno" || words[1] !== "run" || words.at(-1) !== "main.ts") {
    throw new Error(
      `${path}'s "start" task is not "deno run <flags> main.ts": ` +
        JSON.stringify(config.tasks?.start),
    );
  }
  return words.slice(2, -1);
}
