import assert from "node:assert/strict";
import { parseCpuList, pinToCpus } from "../../bench/cpu_affinity.ts";

Deno.test("parseCpuList() takes taskset lists of this machine's CPUs and refuses the rest", () => {
  for (const list of ["0", "0,1", "2-3", "0,2-3"]) {
    assert.equal(parseCpuList("--client-cpus", list, 4), list);
  }
  for (const list of ["", "a", "1-", "0,,1", "-1", "0 1"]) {
    assert.throws(
      () => parseCpuList("--client-cpus", list, 4),
      /--client-cpus=".*" is not a CPU list/,
    );
  }
  assert.throws(
    () => parseCpuList("--server-cpus", "2-4", 4),
    /--server-cpus="2-4" names CPU 4, but this machine has CPUs 0 to 3/,
  );
});

Deno.test("pinToCpus() pins every thread of a running process, including threads started later", async () => {
  // A process that starts a second thread only once it has been pinned (it waits for stdin).
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `await Deno.stdin.read(new Uint8Array(1));
       new Worker("data:text/javascript,setTimeout(() => {}, 60000)", { type: "module" });
       console.log("started");
       await new Promise((resolve) => setTimeout(resolve, 60000));`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    await pinToCpus(child.pid, "0");
    const writer = child.stdin.getWriter();
    await writer.write(new Uint8Array([1]));
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.match((await reader.read()).value ?? "", /started/);
    reader.releaseLock();
    const allowed: string[] = [];
    for (const task of Deno.readDirSync(`/proc/${child.pid}/task`)) {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/task/${task.name}/status`);
      allowed.push(/Cpus_allowed_list:\s*(\S+)/.exec(status)![1]!);
    }
    assert.ok(allowed.length > 1, "the process has more than one thread");
    assert.deepEqual(new Set(allowed), new Set(["0"]));
  } finally {
    child.kill();
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
});

Deno.test("pinToCpus() says which process it could not pin, and why", async () => {
  const gone = new Deno.Command("true").spawn();
  await gone.status;
  await assert.rejects(
    pinToCpus(gone.pid, "0"),
    new RegExp(`Cannot pin process ${gone.pid} to CPUs 0: it is not running`),
  );
});
