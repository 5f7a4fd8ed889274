/**
 * Where a V8 CPU profile spent its time: self time summed per function (name and file) and per
 * file, largest first. For the `.cpuprofile` files `deno run --cpu-prof` writes (and
 * `deno task bench:http --cpu-prof=<dir>`):
 * `deno run --allow-read bench/cpu_profile_summary.ts <file.cpuprofile> [rows]`.
 *
 * @module
 */

/** The part of a V8 `.cpuprofile` this summary reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one function or file, in milliseconds. */
export interface SelfTime {
  name: string;
  ms: number;
}

/** Self time per function and per file, largest first, and the profile's total time. */
export function summarizeProfile(
  profile: CpuProfile,
): { totalMs: number; functions: SelfTime[]; files: SelfTime[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    // The delta before sample i is the time spent in the sample before it; close enough here.
    const ms = (profile.timeDeltas[i] ?? 0) / 1_000;
    totalMs += ms;
    const frame = byId.get(id)?.callFrame;
    const file = shortUrl(frame?.url ?? "");
    const name = `${frame?.functionName || "(anonymous)"} ${file}:${(frame?.lineNumber ?? 0) + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    files.set(file || "(native)", (files.get(file || "(native)") ?? 0) + ms);
  });
  const sorted = (map: Map<string, number>) =>
    [...map].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return { totalMs, functions: sorted(functions), files: sorted(files) };
}

function shortUrl(url: string): string {
  return url.replace(
    /^file:\/\/.*?\/(node_modules|engine|services|store|server|triggers|modules)\//,
    "$1/",
  )
    .replace(/^ext:/, "ext:");
}

if (import.meta.main) {
  const [path, rowsArg] = Deno.args;
  if (path === undefined) {
    throw new TypeError("Give the .cpuprofile file: cpu_profile_summary.ts <file> [rows]");
  }
  const rows = Number(rowsArg ?? 40);
  const { totalMs, functions, files } = summarizeProfile(
    JSON.parse(await Deno.readTextFile(path)) as CpuProfile,
  );
  const pct = (ms: number) => `${((100 * ms) / totalMs).toFixed(1)}%`.padStart(6);
  console.log(`Total ${totalMs.toFixed(0)} ms sampled\n\nSelf time by file:`);
  for (const file of files.slice(0, 25)) {
    console.log(`${pct(file.ms)} ${file.ms.toFixed(0).padStart(7)} ms  ${file.name}`);
  }
  console.log("\nSelf time by function:");
  for (const fn of functions.slice(0, rows)) {
    console.log(`${pct(fn.ms)} ${fn.ms.toFixed(0).padStart(7)} ms  ${fn.name}`);
  }
}
