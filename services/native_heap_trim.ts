/**
 * Gives the native heap's free pages back to the system, through glibc's `malloc_trim(0n)`.
 *
 * Request bodies arrive in 64 KiB chunks that Deno allocates with glibc's `malloc` on the main
 * thread. Once V8 has collected them they are free, but glibc keeps the pages: the few blocks
 * still in use are scattered over the heap, so its top never shrinks. After a burst of
 * 10,000-attribute events, glibc's main heap held 168 MiB of which 24 MiB were in use, and an
 * idle Flowgate stayed at 258 MiB. `malloc_trim(0n)` releases every free page inside the heap as
 * well (`madvise`), which brought it to 118 MiB. Nothing else in the runtime reaches it.
 *
 * It needs FFI for glibc's file only: `deno task start` grants
 * `--allow-ffi=/lib/<arch>-linux-gnu/libc.so.6` for the two architectures Deno builds for Linux.
 * Elsewhere (Deno Deploy, the compiled binary, musl, macOS, a run without that permission) the
 * trim is simply unavailable and the idle release does V8's collection alone.
 *
 * @module
 */

import { log } from "../engine/log.ts";

/** Trims the native heap; the result tells whether glibc gave memory back. */
export type NativeHeapTrim = () => boolean;

/** glibc's file on Debian-style systems, by Deno's name of the architecture (the multiarch triplet). */
export function glibcPath(arch: string = Deno.build.arch): string {
  return `/lib/${arch}-linux-gnu/libc.so.6`;
}

let loaded: NativeHeapTrim | null | undefined;

/**
 * glibc's `malloc_trim(0n)`, loaded once; undefined where it cannot be: not Linux, no FFI in this
 * runtime, FFI not granted for glibc's file (checked first, so no permission prompt is ever
 * shown), or no such file.
 */
export function nativeHeapTrim(): NativeHeapTrim | undefined {
  if (loaded === undefined) loaded = loadMallocTrim() ?? null;
  return loaded ?? undefined;
}

function loadMallocTrim(): NativeHeapTrim | undefined {
  if (Deno.build.os !== "linux" || typeof Deno.dlopen !== "function") return undefined;
  const path = glibcPath();
  try {
    if (Deno.permissions.querySync({ name: "ffi", path }).state !== "granted") return undefined;
    const library = Deno.dlopen(path, {
      malloc_trim: { parameters: ["usize"], result: "i32" },
    });
    return () => library.symbols.malloc_trim(0n) === 1;
  } catch (error) {
    log.info("The native heap cannot be trimmed at idle (glibc's malloc_trim is not loadable)", {
      path,
      error: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
}
