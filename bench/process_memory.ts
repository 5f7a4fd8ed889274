/**
 * Resident memory of a benchmarked server, read from Linux's `/proc/<pid>/status`: the current
 * resident set (`VmRSS`) and its peak (`VmHWM`), which `resetPeakRss` starts again from the
 * current value so that one workload's peak can be read alone.
 *
 * @module
 */

/** Resident memory of a process, in bytes; undefined where `/proc` cannot be read. */
export interface RssReading {
  rss?: number;
  peak?: number;
}

/** `VmRSS` and `VmHWM` of `pid`, in bytes (both undefined off Linux or once the process is gone). */
export function readRss(pid: number): RssReading {
  let status: string;
  try {
    status = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return {};
  }
  const field = (name: string) => {
    const kib = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) * 1_024;
  };
  const reading: RssReading = {};
  const rss = field("VmRSS");
  const peak = field("VmHWM");
  if (rss !== undefined) reading.rss = rss;
  if (peak !== undefined) reading.peak = peak;
  return reading;
}

/**
 * Resets `VmHWM` of `pid` to its current RSS (writing 5 to `/proc/<pid>/clear_refs`); false when
 * the kernel refused, in which case the peak stays the process's lifetime peak.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Bytes as MiB with no decimals, or "n/a". */
export function formatMiB(bytes: number | undefined): string {
  return bytes === undefined ? "n/a" : `${Math.round(bytes / 1_048_576)} MiB`;
}
