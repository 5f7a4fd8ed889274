/**
 * One process per local KV file: an exclusive OS file lock on `<kv path>.lock`, held for the
 * process lifetime. The local KV is single-process (queue messages reach only the process that
 * enqueued them, and two writers get "database is locked"), so a second Flowgate on the same file
 * must refuse to start. The OS drops the lock when the holder dies, even by `kill -9`, so a stale
 * lock file never blocks a restart.
 *
 * @module
 */

/** Appended to the KV path to name its lock file. */
export const KV_LOCK_SUFFIX = ".lock";

/** Another process holds the lock of the KV file. */
export class KvLockedError extends Error {
  /** The KV file. */
  readonly path: string;
  /** The holder's process id, as it wrote it in the lock file (absent when unreadable). */
  readonly pid: number | undefined;

  /** Creates the error for `path`, naming the holder's `pid` when known. */
  constructor(path: string, pid: number | undefined, options?: ErrorOptions) {
    super(
      `Another Flowgate process is using ${path}${pid === undefined ? "" : ` (pid ${pid})`}: ` +
        "stop it, or set FLOWGATE_KV to another file",
      options,
    );
    this.name = "KvLockedError";
    this.path = path;
    this.pid = pid;
  }
}

/** A held lock; release it (or let the process end) to let another process open the file. */
export interface KvLock extends Disposable {
  /** The lock file. */
  readonly lockPath: string;
  /** Releases the lock; calling it again does nothing. */
  release(): void;
}

/**
 * Whether a `FLOWGATE_KV` value names a local file: not the platform KV (no path), not
 * `:memory:`, not a remote URL. Only local files are locked.
 */
export function isLocalKvPath(path: string | undefined): path is string {
  return path !== undefined && path !== "" && path !== ":memory:" && !/^https?:\/\//i.test(path);
}

/**
 * Takes the exclusive lock of the local KV file `kvPath` without waiting, and writes this
 * process's id into the lock file for the next one's error message. Returns null when `kvPath`
 * is not a local file (nothing to lock). The lock file's directory must exist.
 *
 * @throws {KvLockedError} when another process holds the lock.
 */
export async function acquireKvLock(kvPath: string | undefined): Promise<KvLock | null> {
  if (!isLocalKvPath(kvPath)) return null;
  const lockPath = `${kvPath}${KV_LOCK_SUFFIX}`;
  // No truncation on open: the file may hold the current holder's pid.
  const file = await Deno.open(lockPath, { read: true, write: true, create: true });
  try {
    const locked = await file.tryLock(true);
    if (!locked) throw new KvLockedError(kvPath, await readHolderPid(lockPath));
    await file.truncate(0);
    await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  } catch (error) {
    file.close();
    throw error;
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    // Closing the file releases the OS lock; the file stays for the next holder.
    file.close();
  };
  return { lockPath, release, [Symbol.dispose]: release };
}

async function readHolderPid(lockPath: string): Promise<number | undefined> {
  try {
    const pid = Number((await Deno.readTextFile(lockPath)).trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
