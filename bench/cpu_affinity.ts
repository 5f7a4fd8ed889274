/**
 * CPU pinning for the HTTP benchmark (`--client-cpus`, `--server-cpus`): the load generator and
 * the servers on CPUs of their own, so the client's share of the cores (4 ms of CPU per
 * 1,000-attribute request) no longer decides how much is left for the server under test. Uses
 * `taskset` from util-linux, on every thread of a process: the threads started later (verdict
 * Workers, the runtime's pools) inherit the set from the thread that starts them.
 *
 * @module
 */

/** A `taskset` CPU list as the flags take it: `2`, `0,1`, `2-3`, `0,2-3`. */
const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/**
 * The CPU list of a flag, checked against this machine's CPUs.
 *
 * @throws {TypeError} naming the flag, when the list is malformed or names a CPU this machine
 *   does not have
 */
export function parseCpuList(
  flag: string,
  text: string,
  cpus: number = navigator.hardwareConcurrency,
): string {
  if (!CPU_LIST.test(text)) {
    throw new TypeError(
      `${flag}="${text}" is not a CPU list: give CPU numbers and ranges such as "2-3" or "0,2"`,
    );
  }
  const highest = Math.max(...text.split(/[,-]/).map(Number));
  if (highest >= cpus) {
    throw new TypeError(
      `${flag}="${text}" names CPU ${highest}, but this machine has CPUs 0 to ${cpus - 1}`,
    );
  }
  return text;
}

/**
 * Pins every thread of process `pid` to `cpus` (a list checked by `parseCpuList`).
 *
 * @throws {Error} when `taskset` is missing or refuses, or the process is not running
 */
export async function pinToCpus(pid: number, cpus: string): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("taskset", {
      args: ["--all-tasks", "--cpu-list", "--pid", cpus, String(pid)],
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new Error(
      `Cannot pin process ${pid} to CPUs ${cpus}: taskset did not run (${
        error instanceof Error ? error.message : String(error)
      }); install util-linux`,
    );
  }
  if (!output.success) {
    throw new Error(
      `Cannot pin process ${pid} to CPUs ${cpus}: ${
        new TextDecoder().decode(output.stderr).trim()
      }`,
    );
  }
  // `taskset --all-tasks` succeeds on a process that has no threads left, i.e. is gone.
  if (!(await isRunning(pid))) {
    throw new Error(`Cannot pin process ${pid} to CPUs ${cpus}: it is not running`);
  }
}

async function isRunning(pid: number): Promise<boolean> {
  try {
    await Deno.stat(`/proc/${pid}/status`);
    return true;
  } catch {
    return false;
  }
}
