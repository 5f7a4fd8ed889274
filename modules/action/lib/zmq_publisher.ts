/**
 * A ZeroMQ PUB socket that publishes as MISP's `mispzmq.py` does: one frame `"<topic> <json>"`
 * per message, the socket bound to the configured endpoint (subscribers connect to it, e.g.
 * `tcp://127.0.0.1:50000`). The native `zeromq` addon is loaded on first use, and only where FFI
 * is granted for it (`deno task start` grants `--allow-ffi` for the addon's folder), so a process
 * without it (Deno Deploy, the compiled binary, `--deny-ffi`) never touches FFI and only fails the
 * modules that publish, with a clear error. `zeroMqAvailability()` says which, for `/healthz`.
 *
 * @module
 */

import type { ZmqPublisher } from "../../../engine/module_services.ts";

/** A publisher plus what a host needs to manage it. */
export interface ZmqPublisherHandle extends ZmqPublisher, AsyncDisposable {
  /** The bound endpoint, with the real port when bound to `tcp://host:*`. */
  endpoint(): Promise<string>;
  close(): Promise<void>;
}

type ZeroMq = typeof import("zeromq");

/** How long queued messages may delay `close()`, in milliseconds. */
const ZMQ_LINGER_MS = 1_000;

/** Whether this process can load the ZeroMQ addon; `reason` says why not. */
export type ZeroMqAvailability = { ok: true } | { ok: false; reason: string };

/**
 * The folder of the `zeromq` package when it is a local file (the FFI permission is checked for
 * it, as `--allow-ffi=<folder>` grants it), or undefined where it is not (a compiled binary).
 */
function zeroMqFolder(): string | undefined {
  try {
    const folder = new URL("../", import.meta.resolve("zeromq"));
    return folder.protocol === "file:" ? decodeURIComponent(folder.pathname) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why FFI may not load the addon, or undefined when it is granted. Checked before loading, so a
 * process without the permission never attempts it (no permission prompt, no FFI on Deploy).
 */
async function ffiRefusal(): Promise<string | undefined> {
  const folder = zeroMqFolder();
  let state: Deno.PermissionState;
  try {
    const descriptor: Deno.FfiPermissionDescriptor = folder === undefined
      ? { name: "ffi" }
      : { name: "ffi", path: folder };
    state = (await Deno.permissions.query(descriptor)).state;
  } catch (error) {
    return `Cannot check the FFI permission the ZeroMQ addon needs: ${
      error instanceof Error ? error.message : error
    }`;
  }
  if (state === "granted") return undefined;
  return `FFI is not granted for the ZeroMQ addon (npm "zeromq", native)${
    folder === undefined ? "" : ` in ${folder}`
  }: start Flowgate with \`deno task start\`, which grants --allow-ffi for it. Deno Deploy and ` +
    "the compiled binary have no FFI: push-zmq is unavailable there";
}

let loading: Promise<ZeroMq> | undefined;

/** Loads the addon once per process, after checking the FFI permission. */
function loadZeroMq(): Promise<ZeroMq> {
  loading ??= (async () => {
    const refusal = await ffiRefusal();
    if (refusal !== undefined) throw new Error(refusal);
    try {
      return await import("zeromq");
    } catch (cause) {
      throw new Error(
        `Cannot load the ZeroMQ library (npm "zeromq", a native addon): ${
          cause instanceof Error ? cause.message : cause
        }`,
        { cause },
      );
    }
  })();
  return loading;
}

/**
 * Whether `push-zmq` can publish from this process: FFI granted for the addon and the addon
 * loaded (once per process; the answer is cached with the loaded library).
 */
export async function zeroMqAvailability(): Promise<ZeroMqAvailability> {
  try {
    await loadZeroMq();
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Creates a publisher bound to `endpoint` (`tcp://127.0.0.1:50000`, `tcp://*:50000`, `ipc://…`).
 * Binding happens on the first call; a bind failure rejects that call and the next ones.
 */
export function createZmqPublisher(endpoint: string): ZmqPublisherHandle {
  let socket: Promise<InstanceType<ZeroMq["Publisher"]>> | undefined;
  const open = () => {
    socket ??= (async () => {
      const zmq = await loadZeroMq();
      const publisher = new zmq.Publisher({ linger: ZMQ_LINGER_MS });
      try {
        await publisher.bind(endpoint);
      } catch (cause) {
        publisher.close();
        throw new Error(
          `Cannot bind the ZeroMQ publisher to "${endpoint}": ${
            cause instanceof Error ? cause.message : cause
          }`,
          { cause },
        );
      }
      return publisher;
    })();
    return socket;
  };
  const close = async () => {
    if (!socket) return;
    const pending = socket;
    socket = undefined;
    try {
      (await pending).close();
    } catch {
      // Never bound: nothing to close.
    }
  };
  return {
    async publish(topic: string, message: string): Promise<void> {
      await (await open()).send(`${topic} ${message}`);
    },
    async endpoint(): Promise<string> {
      return (await open()).lastEndpoint ?? endpoint;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
