/**
 * Bounded reading of request bodies: chunk by chunk, never reserving the declared length, stopped
 * at a size cap, after an idle wait and after a total wait.
 *
 * @module
 */

/** How much of a request body may be read, and for how long. */
export interface ReadBodyOptions {
  /** Most bytes accepted. */
  maxBytes: number;
  /** Longest wait for the next chunk, in milliseconds. */
  idleTimeoutMs: number;
  /** Longest wait for the whole body, in milliseconds. */
  totalTimeoutMs: number;
  /** Who the limit is for, in the 413 message (default "this route"). */
  what?: string;
  /** The setting that raises the limit, when there is one (e.g. `FLOWGATE_MAX_BODY_BYTES`). */
  setting?: string;
}

/** A request body larger than its route accepts: 413. */
export class BodyTooLargeError extends RangeError {
  /** The cap, in bytes. */
  readonly limit: number;

  /** Creates the error for a body over `options.maxBytes`. */
  constructor(options: Pick<ReadBodyOptions, "maxBytes" | "what" | "setting">) {
    super(
      `Request body over the limit of ${options.maxBytes} bytes for ${
        options.what ?? "this route"
      }: send a smaller body${options.setting ? ` or raise ${options.setting}` : ""}`,
    );
    this.name = "BodyTooLargeError";
    this.limit = options.maxBytes;
  }
}

/** A request body that stalled or took too long: 408, and the connection is not kept. */
export class BodyTimeoutError extends Deno.errors.TimedOut {
  /** `idle`: no byte for the idle timeout; `total`: the whole body not in within the total. */
  readonly kind: "idle" | "total";
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;

  /** Creates the error for the timeout that expired. */
  constructor(kind: "idle" | "total", timeoutMs: number) {
    super(
      kind === "idle"
        ? `Request body timed out: no byte received for ${timeoutMs} ms ` +
          "(FLOWGATE_BODY_IDLE_TIMEOUT_MS); send the body without pauses"
        : `Request body timed out: not complete after ${timeoutMs} ms ` +
          "(FLOWGATE_BODY_TIMEOUT_MS); send it faster or raise the setting",
    );
    this.name = "BodyTimeoutError";
    this.kind = kind;
    this.timeoutMs = timeoutMs;
  }
}

/** The `Content-Length` a request declares, or undefined (absent, chunked, not a number). */
export function declaredLength(headers: Headers): number | undefined {
  const raw = headers.get("content-length");
  if (raw === null || !/^\s*\d+\s*$/.test(raw)) return undefined;
  return Number(raw);
}

/** What `readBodyBytes` does along the way. */
export interface ReadBodyHooks {
  /** Told the bytes read so far after each chunk. */
  onProgress?: (bytesRead: number) => void;
  /**
   * Gives each chunk's memory back once it is copied into the body (`releaseBuffer`). Only for a
   * request from the network, whose chunks nobody else holds: a body stream built in this
   * process may hand over its caller's own buffers.
   */
  releaseChunks?: boolean;
}

/**
 * Reads a request body whole, within the size cap and the timeouts. A declared `Content-Length`
 * over the cap is refused before any byte is read; otherwise the declared length is not trusted:
 * the bytes are counted as they arrive and kept in the chunks received.
 *
 * @param request the request whose body to read (an absent body reads as no bytes)
 * @param options cap, idle and total timeouts, and the words of the 413 message
 * @param hooks progress reports, and whether the chunks are released once copied
 * @returns the body's bytes
 * @throws {BodyTooLargeError} over the cap (the body stream is cancelled)
 * @throws {BodyTimeoutError} when the idle or total timeout expires (the body stream is cancelled)
 */
export async function readBodyBytes(
  request: Request,
  options: ReadBodyOptions,
  hooks: ReadBodyHooks = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = declaredLength(request.headers);
  if (declared !== undefined && declared > options.maxBytes) throw new BodyTooLargeError(options);
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let read = 0;
  const size = await consumeBody(request.body, options, (chunk) => {
    chunks.push(chunk);
    read += chunk.byteLength;
    hooks.onProgress?.(read);
  });
  // Stream chunks sit on plain ArrayBuffers (never shared memory): one chunk is returned as is.
  if (chunks.length === 1) return chunks[0]! as Uint8Array<ArrayBuffer>;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  // Copied: without this they would wait for a full collection, as they outlive the young
  // generation while the rest of a large body arrives.
  if (hooks.releaseChunks) chunks.forEach(releaseBuffer);
  return bytes;
}

/**
 * Gives the memory of `bytes`' buffer back at once, instead of at the next full garbage
 * collection, by detaching the buffer: every view of it reads as empty afterwards. For buffers
 * the caller alone holds; a shared or already detached buffer is left as it is. Under load a
 * server holds dozens of dead multi-megabyte bodies between two full collections.
 */
export function releaseBuffer(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (buffer instanceof ArrayBuffer && !buffer.detached) buffer.transfer(0);
}

/**
 * Reads `body` to its end, handing each chunk to `onChunk`, within the cap and the timeouts; on
 * failure the stream is cancelled so no more is taken from the client. One timer watches both
 * timeouts and is re-armed only when it fires, so a chunk costs no timer of its own.
 *
 * @returns the number of bytes read
 */
export async function consumeBody(
  body: ReadableStream<Uint8Array>,
  options: ReadBodyOptions,
  onChunk: (chunk: Uint8Array) => void,
): Promise<number> {
  const reader = body.getReader();
  const started = performance.now();
  let lastChunkAt = started;
  let expired: BodyTimeoutError | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watch = () => {
    const now = performance.now();
    const totalLeft = options.totalTimeoutMs - (now - started);
    const idleLeft = options.idleTimeoutMs - (now - lastChunkAt);
    if (totalLeft <= 0 || idleLeft <= 0) {
      expired = totalLeft <= 0
        ? new BodyTimeoutError("total", options.totalTimeoutMs)
        : new BodyTimeoutError("idle", options.idleTimeoutMs);
      // Settles the pending read (as done); the loop below then throws `expired`.
      reader.cancel(expired).catch(() => {});
      return;
    }
    timer = setTimeout(watch, Math.min(totalLeft, idleLeft));
  };
  watch();
  let size = 0;
  try {
    for (;;) {
      const result = await reader.read();
      if (expired) throw expired;
      if (result.done) return size;
      lastChunkAt = performance.now();
      size += result.value.byteLength;
      if (size > options.maxBytes) throw new BodyTooLargeError(options);
      if (result.value.byteLength > 0) onChunk(result.value);
    }
  } catch (error) {
    // Stop taking bytes from the client; a cancel that fails has nothing left to stop.
    if (error !== expired) await reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}
