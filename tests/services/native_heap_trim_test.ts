import assert from "node:assert/strict";
import { glibcPath } from "../../services/native_heap_trim.ts";
import { startTaskFlags } from "../fixtures/flowgate_process.ts";

const PROBE = new URL("../fixtures/native_heap_trim_probe.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

/** Runs the probe with `flags` and returns what it printed. */
async function probe(flags: string[]): Promise<{ loaded: boolean; trimmed?: boolean }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, PROBE],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `the probe failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

Deno.test("glibcPath() names glibc by Debian's multiarch folder for each Linux build of Deno", () => {
  assert.equal(glibcPath("x86_64"), "/lib/x86_64-linux-gnu/libc.so.6");
  assert.equal(glibcPath("aarch64"), "/lib/aarch64-linux-gnu/libc.so.6");
});

Deno.test("deno task start grants FFI for glibc's file on both Linux architectures", () => {
  const ffi = startTaskFlags().find((flag) => flag.startsWith("--allow-ffi="));
  const granted = ffi?.slice("--allow-ffi=".length).split(",") ?? [];
  for (const arch of ["x86_64", "aarch64"]) assert.ok(granted.includes(glibcPath(arch)), arch);
});

Deno.test("with the start task's flags, malloc_trim loads and trims", {
  ignore: Deno.build.os !== "linux",
}, async () => {
  const { loaded, trimmed } = await probe(startTaskFlags());
  assert.equal(loaded, true);
  // 1 or 0 from glibc: whether this small process had free pages to give back.
  assert.equal(typeof trimmed, "boolean");
});

Deno.test("without FFI for glibc, the trim is unavailable and nothing prompts", async () => {
  const withoutGlibc = startTaskFlags().map((flag) =>
    flag.startsWith("--allow-ffi=") ? "--allow-ffi=./node_modules/.deno/zeromq@6.8.0" : flag
  );
  assert.deepEqual(await probe(withoutGlibc), { loaded: false });
  assert.deepEqual(await probe(["--allow-read", "--allow-env"]), { loaded: false });
});
