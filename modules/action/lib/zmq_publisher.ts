/**
 * A ZeroMQ PUB socket that publishes as MISP's `mispzmq.py` does: one frame `"<topic> <json>"`
 * per message, the socket bound to the configured endpoint (subscribers connect to it, e.g.
 * `tcp://127.0.0.1:50000`). The native `zeromq` addon is loaded on first use, so a platform
 * without it (Deno Deploy) only fails the modules that publish, with a clear error.
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

async function loadZeroMq(): Promise<ZeroMq> {
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
